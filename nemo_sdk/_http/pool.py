"""The connection pool: one aiohttp session per client, made inside its event loop."""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from .. import errors
from ..config import ClientConfig, Timeouts
from .proxies import NO_PROXY, proxy_for

__all__ = ["Pool", "client_timeout"]


def client_timeout(timeouts: Timeouts, *, stream: bool = False) -> aiohttp.ClientTimeout:
    """aiohttp's timeout from ours; streams keep the idle limit but drop the total."""
    return aiohttp.ClientTimeout(
        total=None if stream else timeouts.total,
        connect=timeouts.connect,
        sock_read=timeouts.read,
    )


class Pool:
    """The shared aiohttp session, made lazily inside the running event loop.

    aiohttp binds a session's connections to the loop it was made in; a call from any
    other loop is refused with :class:`~nemo_sdk.EventLoopMismatchError` before anything
    is sent (it would otherwise fail deep in aiohttp with "Event loop is closed").
    """

    def __init__(self, session: aiohttp.ClientSession | None, config: ClientConfig) -> None:
        self._session = session
        self._limit, self._limit_per_host = config.max_connections, config.max_connections_per_host
        # A session the user made keeps its own proxy settings.
        self.trust_env = config.trust_env and session is None
        self._loop: asyncio.AbstractEventLoop | None = (
            getattr(session, "_loop", None) if session is not None else None
        )
        self.owned = session is None
        self.closed = False

    def get(self) -> aiohttp.ClientSession:
        """The session, made on first use; refused when closed or from another loop."""
        if self.closed:
            raise errors.ClientClosedError("the client is closed; make a new NemoClient")
        if self._session is None:
            self._loop = asyncio.get_running_loop()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limit, limit_per_host=self._limit_per_host
                ),
                cookie_jar=aiohttp.DummyCookieJar(),  # auth is the bearer token, never cookies
            )
        elif self._loop is not None and asyncio.get_running_loop() is not self._loop:
            raise self._mismatch()
        return self._session

    def proxy(self, url: URL) -> tuple[URL | None, dict[str, str] | None]:
        """The proxy for ``url`` (``HTTPS_PROXY``...), unless ``trust_env`` is off."""
        return proxy_for(url) if self.trust_env else NO_PROXY

    def _mismatch(self) -> errors.EventLoopMismatchError:
        assert self._loop is not None
        first = (
            "has ended (an asyncio.run() that returned?)"
            if self._loop.is_closed()
            else "is another one, still open"
        )
        return errors.EventLoopMismatchError(
            "this NemoClient was used from an event loop other than the one its connections "
            f"were opened in, which {first}; nothing was sent. A client belongs to one loop: "
            "create it inside the coroutine that uses it (async with NemoClient() as nemo: "
            "... in the function passed to asyncio.run), one client per loop"
        )

    async def close(self) -> None:
        """Close the session if this pool made it."""
        if self.closed:
            return
        self.closed = True
        if not self.owned or self._session is None:
            return
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop():
            # Its connections cannot be closed from here (their loop is gone or elsewhere):
            # let them go with their loop, without aiohttp's "unclosed session" warning.
            self._session.detach()
            return
        await self._session.close()
