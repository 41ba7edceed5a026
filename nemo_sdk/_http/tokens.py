"""Who the client is: the bearer token (renewed at most once at a time) and the client id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import errors
from .._util.logging import warn_once
from .._util.secrets import remember
from ..config import ClientConfig, load_or_create_client_id, write_client_id

if TYPE_CHECKING:
    from ..models.session import AnonymousToken
    from .token_cache import TokenCache

Fetch = Callable[[], Awaitable["AnonymousToken"]]
"""Gets a new anonymous token (``POST /api/auth/anonymous-token``)."""


class ClientIdStore:
    """The ``X-Client-Id``: configured, else persisted on disk, made on first use.

    ``configured`` (the ``client_id`` argument or ``NEMO_CLIENT_ID``) is the user's:
    it is never renewed nor written.
    """

    def __init__(self, configured: str | None, path: Path | None) -> None:
        self._value = configured
        self._path = path
        self.configured = configured is not None

    def get(self) -> str:
        """The client id, reading or creating the persisted one on first use."""
        if self._value is None:
            if self._path is None:
                self._value = str(uuid.uuid4())
            else:
                try:
                    self._value = load_or_create_client_id(self._path)
                except OSError as exc:
                    self._value = str(uuid.uuid4())
                    self._cannot_keep(exc)
        return self._value

    def renew(self) -> str:
        """Make a new id and persist it (HTTP 400 "missing X-Client-Id" rule)."""
        if self.configured:
            raise AssertionError("a configured client id is never renewed")
        self._value = str(uuid.uuid4())
        if self._path is not None:
            try:
                write_client_id(self._path, self._value)
            except OSError as exc:
                self._cannot_keep(exc)
        return self._value

    def _cannot_keep(self, exc: OSError) -> None:
        # The file is a convenience (the same id next run): without it this run still
        # works, with an id kept in memory.
        warn_once(
            "client id",
            str(self._path),
            "cannot keep the client id in %s (%s); using one in memory for this run — "
            "set NEMO_CLIENT_ID, or client_id_path to a writable file, to keep one between runs",
            self._path,
            f"{type(exc).__name__}: {exc.strerror or exc}",
        )

    def __repr__(self) -> str:
        return f"ClientIdStore(path={self._path!s})"


class TokenManager:
    """Holds the bearer token; fetches an anonymous one when there is none or it expired.

    ``refresh`` is single-flight: when fifty requests see 1001 at once, the first
    fetches a new token and the other forty-nine find it already replaced.

    ``with_options`` copies of a client share its manager (one token, one lock) and
    pass their own ``fetch`` to ``get`` and ``refresh``, so that a fetch a copy
    triggers runs under that copy's timeouts and retries.

    With a ``cache`` (the ``token_cache`` option), the first token is the one kept
    under ``cache_key`` (the API URL) when it is still live; every token fetched is
    kept there, and a token being replaced is dropped from it first.
    """

    def __init__(
        self,
        token: str | None,
        fetch: Fetch,
        *,
        can_refresh: bool,
        cache: TokenCache | None = None,
        cache_key: str = "",
    ) -> None:
        remember(token)
        self._token = token
        self._fetch = fetch
        self.can_refresh = can_refresh
        # Read once, on first use: later renewals follow the 1001 rule, never the file.
        self._cache = cache
        self._cache_key = cache_key
        self._cache_read = cache is None or token is not None
        self.user_id: str | None = None
        self.info: AnonymousToken | None = None
        # Bumped on every new token, so a refresh can tell whether someone else already
        # replaced the token a failed request used (even if the server re-issued the same one).
        self.generation = 0
        self._lock: asyncio.Lock | None = None
        # A fleet's token provider (nemo_sdk.fleet): on 1001 it is asked again (the
        # secret was rotated) instead of an anonymous token being fetched.
        self.provider: Callable[[], Awaitable[str]] | None = None

    @property
    def current(self) -> str | None:
        """The token in use, if any (never logged, never in a repr)."""
        return self._token

    async def get(self, fetch: Fetch | None = None) -> tuple[str, int]:
        """The token and its generation: on first use the cached one, else a new anonymous one."""
        if self._token is not None:
            return self._token, self.generation
        if not self._cache_read:
            self._adopt_cached()
            if self._token is not None:
                return self._token, self.generation
        await self.refresh(self.generation, fetch)
        assert self._token is not None
        return self._token, self.generation

    async def refresh(self, seen_generation: int, fetch: Fetch | None = None) -> str:
        """Get a new anonymous token, unless another caller got one since ``seen_generation``.

        ``fetch`` (default: the one given at construction) is the caller's own; a
        ``provider``, when set, is asked instead.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is not None and self.generation != seen_generation:
                return self._token
            if self.provider is not None:
                token = await self.provider()
                remember(token)
                self.generation += 1
                self._token = token
                return token
            # Shared by copies with different settings, the fetch runs under the settings
            # of the caller that got the lock first: that caller's request is the one
            # blocked on it, so its budget is the one being spent. Callers queued behind
            # it wait on the lock unbounded by their own timeouts; should the fetch fail,
            # the next one in line fetches again under its own settings.
            self._cache_read = True  # what the file held is being replaced: never read it now
            if self._cache is not None and self._token is not None:
                # The service refused this token (or a new one was asked for): a kept
                # copy would only be refused again in the next run.
                await asyncio.to_thread(self._cache.forget, self._cache_key, self._token)
            answer = await (fetch or self._fetch)()
            remember(answer.token)
            self.info = answer
            self.generation += 1
            self._token = answer.token
            self.user_id = answer.user_id or self.user_id
            if self._cache is not None:
                await asyncio.to_thread(self._cache.save, self._cache_key, answer)
            return self._token

    def _adopt_cached(self) -> None:
        """Take the live token the cache keeps for this API, if any (no await: one reader)."""
        self._cache_read = True
        assert self._cache is not None
        kept = self._cache.load(self._cache_key)
        if kept is None:
            return
        remember(kept.token)
        self.generation += 1
        self._token = kept.token
        self.user_id = kept.user_id or self.user_id

    def __repr__(self) -> str:
        state = "set" if self._token else "unset"
        return f"TokenManager(token=<{state}>, user_id={self.user_id!r})"


def explain_token_limit(exc: errors.RateLimitError, config: ClientConfig) -> errors.RateLimitError:
    """The token call's 429, saying which limit was reached and what to do (API.md)."""
    when = f"; it frees in {_duration(exc.retry_after)}" if exc.retry_after else ""
    if exc.limit == "per_client":
        if config.token_cache is None:
            remedy = (
                "pass the token got earlier (token=... or NEMO_TOKEN), or turn on the token "
                "cache (token_cache=True or NEMO_TOKEN_CACHE=1) so that each run reuses the "
                "token the first one got"
            )
        else:
            remedy = (
                f"the token cache ({config.token_cache}) holds no live token for this API "
                "(removed, or the token was got by another program): pass the token got "
                "earlier (token=... or NEMO_TOKEN)"
            )
        hint = (
            "per-client limit: this client id already got its one anonymous token of the "
            f"7 days{when} — {remedy}"
        )
    elif exc.limit == "per_ip":
        hint = (
            "per-IP limit: this IP address got its anonymous tokens of the 7 days (v1.9: "
            f"10){when} — reuse the token got earlier (token=..., NEMO_TOKEN, or "
            "token_cache=True), or use a registered token (NEMO_TOKEN)"
        )
    else:
        return exc
    return exc.with_hint(hint)


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds:.0f} s"
