"""Wire model of the credits call."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Credits(BaseModel):
    """``GET /api/credits/balance/simple`` → ``data``.

    ``frozen`` credits are reserved by running work; ``total = available + frozen``.
    """

    # Inputs stay out of validation errors: a server may echo the bearer token in any field.
    model_config = ConfigDict(
        extra="allow", frozen=True, defer_build=True, hide_input_in_errors=True
    )

    available: int
    frozen: int = 0
    total: int | None = None
