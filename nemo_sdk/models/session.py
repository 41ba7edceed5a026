"""Wire models of the auth and session calls."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    # Inputs stay out of validation errors: a server may echo the bearer token in any field.
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        frozen=True,
        defer_build=True,
        hide_input_in_errors=True,
    )


class _Credentials(BaseModel):
    # An auth answer may carry more secrets than the documented token (an
    # ``access_token``, a ``refresh_token``...): unknown fields are dropped, not kept,
    # so no repr, str, dump or validation error can show one.
    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        defer_build=True,
        hide_input_in_errors=True,
    )


class AnonymousToken(_Credentials):
    """``POST /api/auth/anonymous-token`` → ``data``.

    The token is hidden from ``repr()``; fields the contract does not name are dropped.
    """

    token: str = Field(repr=False)
    user_id: str | None = None
    expires_at: datetime | None = None
    credits: int | None = None
    scopes: list[str] | None = None
    """What the token may do (``read``, ``write``, ``upload``, ``render`` or ``*``), when said."""


class Session(_Wire):
    """A project session: the agent's conversation and its timeline."""

    id: str = Field(alias="session_id")
    task_id: str | None = None
    user_id: str | None = None
    language: str | None = None


class ClaimLink(_Credentials):
    """A browser link that opens the session in the web app, without the bearer token.

    The claim token is hidden from ``repr()``; fields the contract does not name are dropped.
    """

    url: str
    claim_token: str = Field(repr=False)
    expires_in: int | None = None
