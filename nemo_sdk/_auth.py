"""Who the client is: the bearer token (renewed at most once at a time) and the client id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import load_or_create_client_id, write_client_id

if TYPE_CHECKING:
    from .models.session import AnonymousToken

Fetch = Callable[[], Awaitable["AnonymousToken"]]
"""Gets a new anonymous token (``POST /api/auth/anonymous-token``)."""


class ClientIdStore:
    """The ``X-Client-Id``: configured, else persisted on disk, made on first use."""

    def __init__(self, configured: str | None, path: Path | None) -> None:
        self._value = configured
        self._path = path

    def get(self) -> str:
        """The client id, reading or creating the persisted one on first use."""
        if self._value is None:
            if self._path is None:
                self._value = str(uuid.uuid4())
            else:
                self._value = load_or_create_client_id(self._path)
        return self._value

    def renew(self) -> str:
        """Make a new id and persist it (HTTP 400 "missing X-Client-Id" rule)."""
        self._value = str(uuid.uuid4())
        if self._path is not None:
            write_client_id(self._path, self._value)
        return self._value

    def __repr__(self) -> str:
        return f"ClientIdStore(path={self._path!s})"


class TokenManager:
    """Holds the bearer token; fetches an anonymous one when there is none or it expired.

    ``refresh`` is single-flight: when fifty requests see 1001 at once, the first
    fetches a new token and the other forty-nine find it already replaced.

    ``with_options`` copies of a client share its manager (one token, one lock) and
    pass their own ``fetch`` to ``get`` and ``refresh``, so that a fetch a copy
    triggers runs under that copy's timeouts and retries.
    """

    def __init__(
        self,
        token: str | None,
        fetch: Fetch,
        *,
        can_refresh: bool,
    ) -> None:
        self._token = token
        self._fetch = fetch
        self.can_refresh = can_refresh
        self.user_id: str | None = None
        self.info: AnonymousToken | None = None
        # Bumped on every new token, so a refresh can tell whether someone else already
        # replaced the token a failed request used (even if the server re-issued the same one).
        self.generation = 0
        self._lock: asyncio.Lock | None = None

    @property
    def current(self) -> str | None:
        """The token in use, if any (never logged, never in a repr)."""
        return self._token

    async def get(self, fetch: Fetch | None = None) -> tuple[str, int]:
        """The token and its generation, fetching an anonymous one on first use."""
        if self._token is not None:
            return self._token, self.generation
        await self.refresh(self.generation, fetch)
        assert self._token is not None
        return self._token, self.generation

    async def refresh(self, seen_generation: int, fetch: Fetch | None = None) -> str:
        """Get a new anonymous token, unless another caller got one since ``seen_generation``.

        ``fetch`` (default: the one given at construction) is the caller's own.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is not None and self.generation != seen_generation:
                return self._token
            # Shared by copies with different settings, the fetch runs under the settings
            # of the caller that got the lock first: that caller's request is the one
            # blocked on it, so its budget is the one being spent. Callers queued behind
            # it wait on the lock unbounded by their own timeouts; should the fetch fail,
            # the next one in line fetches again under its own settings.
            answer = await (fetch or self._fetch)()
            self.info = answer
            self.generation += 1
            self._token = answer.token
            self.user_id = answer.user_id or self.user_id
            return self._token

    def __repr__(self) -> str:
        state = "set" if self._token else "unset"
        return f"TokenManager(token=<{state}>, user_id={self.user_id!r})"
