"""The token step: the API's headers and the bearer token on API-origin requests only.

The token itself is the single-flight :class:`~nemo_sdk._http.tokens.TokenManager`'s; this
layer asks it for the token a request sends, remembers which generation that was,
and renews it after a 1001 (only if nobody else already did).
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

from .. import errors
from .tokens import ClientIdStore, Fetch, TokenManager

__all__ = ["Credentials", "Headers"]

Headers = CIMultiDict[str] | CIMultiDictProxy[str]


class Credentials:
    """Headers for a request, by origin: the API gets attribution, client id and token."""

    def __init__(
        self,
        tokens: TokenManager,
        client_ids: ClientIdStore,
        fixed: Mapping[str, str],
        fetch: Fetch,
    ) -> None:
        self.tokens = tokens
        self.client_ids = client_ids
        self._fixed: CIMultiDict[str] = CIMultiDict(fixed)
        self._fetch = fetch  # this transport's own (its timeouts and retries)
        # The complete API headers for the last (client id, token) seen: nearly every
        # request sends exactly these, so they are built once, not per request.
        self._cached_key: tuple[str, str | None] | None = None
        self._cached: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

    async def first_token(self) -> None:
        """Get the token if there is none yet (before the retry loop: the token call has
        its own rules, and its failures must not be retried again as the request's)."""
        if self.tokens.current is None:
            await self.tokens.get(self._fetch)

    def ready_headers(
        self, extra: Mapping[str, str] | None, *, to_api: bool, authenticated: bool
    ) -> tuple[Headers, int] | None:
        """:meth:`headers` without waiting, or ``None`` when they need a token fetched.

        Nearly every attempt has its token already: this spares it a coroutine.
        """
        current = self.tokens.current
        if authenticated and to_api and current is None:
            return None
        return self._headers_now(extra, to_api, authenticated, current)

    async def headers(
        self, extra: Mapping[str, str] | None, *, to_api: bool, authenticated: bool
    ) -> tuple[Headers, int]:
        """The headers of one attempt, and the generation of the token they carry."""
        if authenticated and to_api and self.tokens.current is None:
            # Only after a renewal failed and a retry came back here.
            token, generation = await self.tokens.get(self._fetch)
            return self._headers_now(extra, to_api, authenticated, token, generation)
        return self._headers_now(extra, to_api, authenticated, self.tokens.current)

    def _headers_now(
        self,
        extra: Mapping[str, str] | None,
        to_api: bool,
        authenticated: bool,
        current: str | None,
        generation: int | None = None,
    ) -> tuple[Headers, int]:
        if not to_api:
            # The API's own headers (attribution, client id) go only to the API's
            # origin; another host (the CDN) gets what the caller passed, nothing else.
            if authenticated:  # refused before the call is made; kept here as the guard
                raise errors.InvalidArgument("refusing to send the token to another origin")
            return CIMultiDict(extra or {}), 0
        token: str | None = None
        if not authenticated:
            generation = 0
        else:
            token = current
            if generation is None:
                generation = self.tokens.generation
        client_id = self.client_ids.get()
        if not extra:
            key = (client_id, token)
            if key != self._cached_key:
                self._cached = CIMultiDictProxy(self._build(None, client_id, token))
                self._cached_key = key
            return self._cached, generation
        return self._build(extra, client_id, token), generation

    def _build(
        self, extra: Mapping[str, str] | None, client_id: str, token: str | None
    ) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(self._fixed)
        headers["X-Client-Id"] = client_id
        if extra:
            headers.update(extra)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def renew(self, seen_generation: int) -> None:
        """A new token after a 1001, unless another request already got one (single flight)."""
        await self.tokens.refresh(seen_generation, self._fetch)

    def renew_client_id(self) -> None:
        """A new client id (the token call's HTTP 400 rule); never a configured one."""
        self.client_ids.renew()
