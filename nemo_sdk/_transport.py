"""The one place a request leaves the SDK.

One aiohttp ``ClientSession`` per client (shared by ``with_options`` copies),
URLs built with yarl, headers in a multidict, both response envelopes decoded
into data or a typed error, every retry rule applied through ``_retry``.
The bearer token is only ever sent to the API's own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from . import _envelope, errors
from ._auth import ClientIdStore, TokenManager
from ._logging import logger
from ._retry import Sleep, with_retries
from ._version import __version__
from .config import ClientConfig, Timeouts
from .models.session import AnonymousToken

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

Path = str | Sequence[str]


def check_id(kind: str, value: str) -> str:
    """Refuse ids that could change the URL's meaning (``/``, ``?``, ``..``) before sending."""
    if not isinstance(value, str) or not _ID.fullmatch(value) or ".." in value:
        raise errors.InvalidArgument(f"invalid {kind}: {value!r}")
    return value


def client_timeout(timeouts: Timeouts, *, stream: bool = False) -> aiohttp.ClientTimeout:
    """aiohttp's timeout from ours; streams keep the idle limit but drop the total."""
    return aiohttp.ClientTimeout(
        total=None if stream else timeouts.total,
        connect=timeouts.connect,
        sock_read=timeouts.read,
    )


@contextlib.contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """aiohttp's exceptions as ours, so callers only ever see ``NemoError``."""
    try:
        yield
    except asyncio.TimeoutError as exc:
        raise errors.APITimeoutError(f"{what}: timed out") from exc
    except aiohttp.ClientError as exc:
        raise errors.APIConnectionError(f"{what}: {type(exc).__name__}: {exc}") from exc


class _Pool:
    """The shared aiohttp session, made lazily inside the running event loop."""

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session
        self.owned = session is None
        self.closed = False

    def get(self) -> aiohttp.ClientSession:
        if self.closed:
            raise errors.ClientClosedError("the client is closed; make a new NemoClient")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100),
                cookie_jar=aiohttp.DummyCookieJar(),  # auth is the bearer token, never cookies
            )
        return self._session

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.owned and self._session is not None:
            await self._session.close()


class Transport:
    """Sends requests for the resources; see the module docstring."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        _shared: Transport | None = None,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self._pool: _Pool
        self.tokens: TokenManager
        self.client_ids: ClientIdStore
        if _shared is not None:
            self._pool = _shared._pool
            self.tokens = _shared.tokens
            self.client_ids = _shared.client_ids
        else:
            self._pool = _Pool(http_session)
            self.client_ids = ClientIdStore(config.client_id, config.client_id_path)
            self.tokens = TokenManager(
                config.token,
                self.fetch_anonymous_token,
                can_refresh=config.allow_anonymous_reauth,
            )
        self._base = config.api_url
        self._fixed_urls: dict[str, URL] = {}
        self._origin = config.api_url.origin()
        self._timeout = client_timeout(config.timeouts)
        self._stream_timeout = client_timeout(config.timeouts, stream=True)
        self._headers: CIMultiDict[str] = CIMultiDict(config.attribution.headers())
        self._headers["User-Agent"] = f"nemo-sdk/{__version__} (python; aiohttp)"

    def derive(self, config: ClientConfig) -> Transport:
        """A transport with other settings that shares this one's pool, token and client id."""
        return Transport(config, sleep=self.sleep, _shared=self)

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran (on this transport or one it shares a pool with)."""
        return self._pool.closed

    async def close(self) -> None:
        """Close the pool if we made it; an injected aiohttp session is left to its owner."""
        await self._pool.close()

    def url(self, path: Path) -> URL:
        """The API URL of a path given as a string or as already-checked segments."""
        if isinstance(path, str):
            url = self._fixed_urls.get(path)
            if url is None:  # fixed paths are few; building a yarl URL per call is not free
                url = self._base.with_path(self._base.path.rstrip("/") + path)
                self._fixed_urls[path] = url
            return url
        return self._base.joinpath(*path)

    def _request_headers(self, extra: Mapping[str, str] | None) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(self._headers)
        headers["X-Client-Id"] = self.client_ids.get()
        if extra:
            headers.update(extra)
        return headers

    async def _authorize(self, headers: CIMultiDict[str], url: URL) -> int:
        if url.origin() != self._origin:
            # Output URLs live on a CDN host; the token must never reach it.
            raise errors.InvalidArgument(f"refusing to send the token to {url.origin()}")
        token, generation = await self.tokens.get()
        headers["Authorization"] = f"Bearer {token}"
        return generation

    async def _renew_client_id(self) -> None:
        self.client_ids.renew()

    async def _with_rules(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str] | None,
        *,
        authenticated: bool,
        idempotent: bool | None,
        send: Callable[[CIMultiDict[str]], Awaitable[T]],
    ) -> T:
        """Build the headers, add the token, and run ``send`` under every retry rule."""
        token_generation = 0
        # The API's own headers (attribution, client id) go only to the API's origin;
        # the CDN gets what the caller passed and nothing else.
        to_api = url.origin() == self._origin

        async def attempt() -> T:
            nonlocal token_generation
            hdrs = self._request_headers(headers) if to_api else CIMultiDict(headers or {})
            if authenticated:
                token_generation = await self._authorize(hdrs, url)
            return await send(hdrs)

        async def reauth() -> None:
            await self.tokens.refresh(token_generation)

        if authenticated:
            # Fetch the token outside the retry loop: the token call has its own rules,
            # and its failures must not be retried a second time as this request's.
            await self.tokens.get()
        return await with_retries(
            attempt,
            idempotent=method in _IDEMPOTENT if idempotent is None else idempotent,
            settings=self.config.retry,
            reauth=reauth if authenticated and self.tokens.can_refresh else None,
            renew_client_id=self._renew_client_id,
            sleep=self.sleep,
            what=f"{method} {url.path}",
        )

    def _decode(self, resp: aiohttp.ClientResponse, body: bytes) -> dict[str, Any]:
        return _envelope.decode(
            resp.status,
            resp.headers,
            body,
            web_url=str(self.config.web_url),
            user_id=self.tokens.user_id,
        )

    async def request(
        self,
        method: str,
        path: Path,
        *,
        json: Any = None,
        data: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> dict[str, Any]:
        """Send one API call with every retry rule; the decoded body, or a typed error.

        ``data`` is a factory so that a retried multipart body is built afresh.
        """
        url = self.url(path)
        what = f"{method} {url.path}"

        async def send(hdrs: CIMultiDict[str]) -> dict[str, Any]:
            session = self._pool.get()
            started = time.perf_counter()
            with translate_errors(what):
                async with session.request(
                    method,
                    url,
                    headers=hdrs,
                    json=json,
                    data=data() if data is not None else None,
                    timeout=timeout or self._timeout,
                    allow_redirects=False,
                ) as resp:
                    body = await resp.read()
            logger.debug(
                "%s -> %s in %.1f ms", what, resp.status, (time.perf_counter() - started) * 1e3
            )
            return self._decode(resp, body)

        return await self._with_rules(
            method, url, headers, authenticated=authenticated, idempotent=idempotent, send=send
        )

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: Path | URL,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
        expect_content_type: str | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A response whose body the caller reads incrementally (chat, downloads).

        The retry rules apply until the response headers arrive; after that the
        body belongs to the caller. Leaving the block early closes the connection
        instead of draining what may be a 15-minute stream.

        With ``expect_content_type``, an ok status of another content type is read
        as an envelope: the API answers errors (1001, 2001...) with HTTP 200 and a
        JSON body, and those must go through the retry rules like any other.
        """
        url = path_or_url if isinstance(path_or_url, URL) else self.url(path_or_url)
        what = f"{method} {url.path}"

        async def send(hdrs: CIMultiDict[str]) -> aiohttp.ClientResponse:
            session = self._pool.get()
            with translate_errors(what):
                resp = await session.request(
                    method,
                    url,
                    headers=hdrs,
                    json=json,
                    timeout=self._stream_timeout,
                    allow_redirects=False,
                )
                if resp.status in ok_statuses and (
                    expect_content_type is None or resp.content_type == expect_content_type
                ):
                    return resp
                try:
                    body = await resp.read()
                finally:
                    resp.release()
            self._decode(resp, body)
            if resp.status in ok_statuses:
                raise errors.InvalidResponseError(
                    f"{what}: expected {expect_content_type}, got {resp.content_type}",
                    status=resp.status,
                    body=body.decode("utf-8", "replace"),
                )
            raise errors.APIError(f"{what}: unexpected HTTP {resp.status}", status=resp.status)

        resp = await self._with_rules(
            method, url, headers, authenticated=authenticated, idempotent=idempotent, send=send
        )
        try:
            yield resp
        finally:
            resp.close()

    async def fetch_anonymous_token(self) -> AnonymousToken:
        """``POST /api/auth/anonymous-token`` with the client id and no bearer token."""
        doc = await self.request(
            "POST", "/api/auth/anonymous-token", authenticated=False, idempotent=False
        )
        return AnonymousToken.model_validate(_envelope.data_of(doc))

    def __repr__(self) -> str:
        return f"Transport(api_url={str(self._base)!r}, closed={self.closed})"
