"""Wire model of the credits call."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Credits(BaseModel):
    """``GET /api/credits/balance/simple`` → ``data``.

    ``frozen`` credits are reserved by running work; ``total = available + frozen``.
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    available: int
    frozen: int = 0
    total: int | None = None
