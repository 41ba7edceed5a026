"""``nemo.auth``: the bearer token."""

from __future__ import annotations

from ..models.session import AnonymousToken
from ._base import Resource


class Auth(Resource):
    """Token calls. Usually automatic: the client gets a token on first use."""

    async def anonymous_token(self) -> AnonymousToken:
        """Get a new anonymous token for this client id and use it from now on.

        ``POST /api/auth/anonymous-token`` (100 free credits, 7-day expiry).
        """
        tokens = self._transport.tokens
        await tokens.refresh(tokens.generation, self._transport.fetch_anonymous_token)
        assert tokens.info is not None
        return tokens.info

    async def ensure_token(self) -> None:
        """Get an anonymous token now if the client has none yet."""
        await self._transport.tokens.get(self._transport.fetch_anonymous_token)

    @property
    def user_id(self) -> str | None:
        """The user id the service gave us (``anon_...`` for anonymous users), once known."""
        return self._transport.tokens.user_id

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """The token's scopes, when the service listed them (an anonymous token's answer may)."""
        info = self._transport.tokens.info
        return tuple(info.scopes) if info is not None and info.scopes is not None else None

    @property
    def client_id(self) -> str:
        """The ``X-Client-Id`` this client sends (persisted between runs)."""
        return self._transport.client_ids.get()
