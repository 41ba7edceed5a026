"""The one place a request leaves the SDK.

One aiohttp ``ClientSession`` per client (shared by ``with_options`` copies),
URLs built with yarl, headers in a multidict, both response envelopes decoded
into data or a typed error, every retry rule applied through ``_retry``.
The bearer token is only ever sent to the API's own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _envelope, errors
from ._auth import ClientIdStore, TokenManager, explain_token_limit
from ._deadlines import Deadlines
from ._logging import logger, redact
from ._proxies import NO_PROXY, proxy_for
from ._response_info import ResponseInfo
from ._retry import Sleep, with_retries
from ._secrets import scrub_exception
from ._stream_log import log_stream_end, log_stream_open, request_id_note
from ._telemetry import traced_attempts
from ._version import __version__
from .config import ClientConfig, Timeouts

if TYPE_CHECKING:
    from ._token_cache import TokenCache
    from .models.session import AnonymousToken

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

Path = str | Sequence[str]
Headers = CIMultiDict[str] | CIMultiDictProxy[str]


class _What:
    """``"GET /path"`` for messages, formatted only when a message is actually made."""

    __slots__ = ("method", "url")

    def __init__(self, method: str, url: URL) -> None:
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return f"{self.method} {self.url.path}"


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


_CAUSE_CHARS = 200


def describe_cause(exc: BaseException) -> str:
    """``Type: text`` of a low-level error for a message: redacted, and cut when long.

    aiohttp quotes what it could not parse ("Bad status line" with the whole garbage
    answer), which can run to kilobytes; the full text stays on ``__cause__``.
    """
    # Redacted before it is cut, so that a cut cannot split a token out of the pattern.
    text = redact(str(exc))
    if len(text) > _CAUSE_CHARS:
        text = f"{text[:_CAUSE_CHARS]}… [{len(text)} chars in all]"
    return f"{type(exc).__name__}: {text}"


@contextlib.contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """aiohttp's exceptions as ours, so callers only ever see ``NemoError``."""
    try:
        yield
    except asyncio.TimeoutError as exc:
        scrub_exception(exc)
        raise errors.APITimeoutError(f"{what}: timed out") from exc
    except aiohttp.ClientError as exc:
        # aiohttp's errors keep the request headers (the bearer token): cleaned in place.
        scrub_exception(exc)
        raise errors.APIConnectionError(f"{what}: {describe_cause(exc)}") from exc


class _Pool:
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
        # The openai-python convention: a ``with_options`` copy shares the original's pool,
        # and only the original closes it; closing a copy leaves the pool alone.
        self._owns_pool = _shared is None
        if _shared is not None:
            self._pool = _shared._pool
            # One token manager for all copies (one fetch at a time); each passes its own
            # ``fetch_anonymous_token`` so that a fetch it triggers uses its settings.
            self.tokens = _shared.tokens
            self.client_ids = _shared.client_ids
        else:
            self._pool = _Pool(http_session, config)
            self.client_ids = ClientIdStore(config.client_id, config.client_id_path)
            self.tokens = TokenManager(
                config.token,
                self.fetch_anonymous_token,
                can_refresh=config.allow_anonymous_reauth,
                cache=_token_cache_of(config),
                cache_key=str(config.api_url),
            )
        self._base = config.api_url
        self._fixed_urls: dict[str, URL] = {}
        self._origin = config.api_url.origin()
        self._web_url = str(config.web_url)
        # aiohttp keeps only the connect limit of calls; ``_deadlines`` enforces the rest.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=config.timeouts.connect)
        self._deadlines = Deadlines(config.timeouts.read, config.timeouts.total)
        self._stream_timeout = client_timeout(config.timeouts, stream=True)
        self._headers: CIMultiDict[str] = CIMultiDict(config.attribution.headers())
        self._headers["User-Agent"] = f"nemo-sdk/{__version__} (python; aiohttp)"
        # The complete API headers for the last (client id, token) seen: nearly every
        # request sends exactly these, so they are built once, not per request.
        self._cached_key: tuple[str, str | None] | None = None
        self._cached_headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

    def derive(self, config: ClientConfig) -> Transport:
        """A transport with other settings that shares this one's pool, token and client id."""
        return Transport(config, sleep=self.sleep, _shared=self)

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran (on this transport or one it shares a pool with)."""
        return self._pool.closed

    async def close(self) -> None:
        """Close the pool if we made it; an injected aiohttp session is left to its owner.

        A copy made by :meth:`derive` closes nothing: the pool is the original's.
        """
        if self._owns_pool:
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

    def _api_headers(self, extra: Mapping[str, str] | None, token: str | None) -> Headers:
        client_id = self.client_ids.get()
        if not extra:
            key = (client_id, token)
            if key != self._cached_key:
                self._cached_headers = CIMultiDictProxy(self._build_headers(None, client_id, token))
                self._cached_key = key
            return self._cached_headers
        return self._build_headers(extra, client_id, token)

    def _build_headers(
        self, extra: Mapping[str, str] | None, client_id: str, token: str | None
    ) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(self._headers)
        headers["X-Client-Id"] = client_id
        if extra:
            headers.update(extra)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _token(self) -> tuple[str, int]:
        tokens = self.tokens
        token = tokens.current
        if token is None:  # only the first request of an anonymous client waits here
            return await tokens.get(self.fetch_anonymous_token)
        return token, tokens.generation

    async def _renew_client_id(self) -> None:
        self.client_ids.renew()

    def _client_id_renewal(self, client_id_rule: bool) -> Callable[[], Awaitable[None]] | None:
        # A client id the user configured is theirs: a 400 is reported, never "fixed" by
        # replacing it (and the request is then not re-sent).
        if client_id_rule and not self.client_ids.configured:
            return self._renew_client_id
        return None

    async def _with_rules(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str] | None,
        *,
        to_api: bool,
        authenticated: bool,
        idempotent: bool | None,
        send: Callable[[Headers], Awaitable[T]],
    ) -> T:
        """Build the headers, add the token, and run ``send`` under every retry rule."""
        if authenticated and not to_api:
            # Output URLs live on a CDN host; the token must never reach it.
            raise errors.InvalidArgument(f"refusing to send the token to {url.origin()}")
        token_generation = 0

        async def attempt() -> T:
            nonlocal token_generation
            if not to_api:
                # The API's own headers (attribution, client id) go only to the API's
                # origin; the CDN gets what the caller passed and nothing else.
                return await send(CIMultiDict(headers or {}))
            token = None
            if authenticated:
                token, token_generation = await self._token()
            return await send(self._api_headers(headers, token))

        async def reauth() -> None:
            await self.tokens.refresh(token_generation, self.fetch_anonymous_token)

        if authenticated and self.tokens.current is None:
            # Fetch the token outside the retry loop: the token call has its own rules,
            # and its failures must not be retried a second time as this request's.
            await self.tokens.get(self.fetch_anonymous_token)
        return await with_retries(
            attempt,
            idempotent=method in _IDEMPOTENT if idempotent is None else idempotent,
            settings=self.config.retry,
            reauth=reauth if authenticated and self.tokens.can_refresh else None,
            renew_client_id=None,  # the client-id rule is the token call's alone
            sleep=self.sleep,
            what=_What(method, url),
        )

    def _decode(self, resp: aiohttp.ClientResponse, body: bytes) -> dict[str, Any]:
        return _envelope.decode(
            resp.status,
            resp.headers,
            body,
            web_url=self._web_url,
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
        client_id_rule: bool = False,
    ) -> dict[str, Any]:
        """Send one API call with every retry rule; the decoded body, or a typed error."""
        doc, _ = await self.answer(
            method,
            path,
            json=json,
            data=data,
            headers=headers,
            authenticated=authenticated,
            idempotent=idempotent,
            timeout=timeout,
            client_id_rule=client_id_rule,
        )
        return doc

    async def answer(
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
        client_id_rule: bool = False,
    ) -> tuple[dict[str, Any], ResponseInfo]:
        """:meth:`request`, with the answer the body came from (status, headers, raw body).

        ``data`` is a factory so that a retried multipart body is built afresh.
        ``timeout`` replaces the configured timeouts (aiohttp enforces it).
        ``client_id_rule``: this is the call ``X-Client-Id`` is for (the token call),
        whose HTTP 400 means the id was missing (API.md, "Error codes").
        """
        call = _Call(self, method, self.url(path), json, data, headers, authenticated, timeout)
        call.client_id_rule = client_id_rule
        # The telemetry seam: a span per HTTP attempt (``call`` itself when tracing is off).
        attempt = traced_attempts(call, method, call.url, path if isinstance(path, str) else None)
        if authenticated and self.tokens.current is None:
            # Fetch the token outside the retry loop: the token call has its own rules,
            # and its failures must not be retried a second time as this request's.
            await self.tokens.get(self.fetch_anonymous_token)
        # The first attempt runs here, not under ``with_retries``: nearly every call
        # succeeds at once, and each layer of coroutines costs on every call.
        try:
            return await attempt(), call.info
        except errors.NemoError as exc:
            first = exc
        doc = await with_retries(
            attempt,
            first_failure=first,
            idempotent=method in _IDEMPOTENT if idempotent is None else idempotent,
            settings=self.config.retry,
            reauth=call.reauth if authenticated and self.tokens.can_refresh else None,
            renew_client_id=self._client_id_renewal(client_id_rule),
            sleep=self.sleep,
            what=_What(method, call.url),
        )
        return doc, call.info

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
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A response whose body the caller reads incrementally (chat, downloads).

        ``timeout`` replaces the configured stream timeouts (aiohttp enforces it).

        The retry rules apply until the response headers arrive; after that the
        body belongs to the caller. Leaving the block early closes the connection
        instead of draining what may be a 15-minute stream.

        With ``expect_content_type``, an ok status of another content type is read
        as an envelope: the API answers errors (1001, 2001...) with HTTP 200 and a
        JSON body, and those must go through the retry rules like any other.
        """
        url = path_or_url if isinstance(path_or_url, URL) else self.url(path_or_url)
        what = f"{method} {url.path}"

        async def send(hdrs: Headers) -> aiohttp.ClientResponse:
            session = self._pool.get()
            proxy, proxy_headers = self._pool.proxy(url)
            with translate_errors(what):
                resp = await session.request(
                    method,
                    url,
                    headers=hdrs,
                    proxy=proxy,
                    proxy_headers=proxy_headers,
                    json=json,
                    timeout=timeout or self._stream_timeout,
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

        to_api = url.origin() == self._origin
        started = time.perf_counter()
        resp = await self._with_rules(
            method,
            url,
            headers,
            to_api=to_api,
            authenticated=authenticated,
            idempotent=idempotent,
            # The telemetry seam: a span per HTTP attempt (``send`` itself when tracing is off).
            send=traced_attempts(
                send, method, url, path_or_url if isinstance(path_or_url, str) else None
            ),
        )
        # A stream's log line: where (another origin by host and path only: a signed
        # URL's query is a credential), the status, the request id, and when it ended.
        port = f":{url.explicit_port}" if url.explicit_port else ""
        where = what if to_api else f"{method} {url.host}{port}{url.path}"
        log_stream_open(where, resp, started)
        try:
            yield resp
        finally:
            resp.close()
            log_stream_end(where, started)

    async def fetch_anonymous_token(self) -> AnonymousToken:
        """``POST /api/auth/anonymous-token`` with the client id and no bearer token."""
        # Imported here, not at the top: the client core defines no pydantic model, so
        # ``from nemo_sdk import NemoClient`` does not pay for pydantic's machinery.
        from .models.session import AnonymousToken

        try:
            doc = await self.request(
                "POST",
                "/api/auth/anonymous-token",
                authenticated=False,
                idempotent=False,
                client_id_rule=True,
            )
        except errors.RateLimitError as exc:
            raise explain_token_limit(exc, self.config) from exc
        except errors.MissingClientIdError as exc:
            if not self.client_ids.configured:
                raise
            raise errors.MissingClientIdError(
                f"{exc.message} — the service refused the client id you configured "
                "(client_id=... or NEMO_CLIENT_ID); it is never replaced: check its value "
                "(a UUID), or unset it to let the SDK make and keep one",
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
                body=exc.body,
            ) from exc
        with _envelope.reading("token"):
            return AnonymousToken.model_validate(_envelope.data_of(doc))

    def __repr__(self) -> str:
        return f"Transport(api_url={str(self._base)!r}, closed={self.closed})"


def _token_cache_of(config: ClientConfig) -> TokenCache | None:
    """The token manager's cache: none unless the option is on and no token was given."""
    # A token the user supplied is theirs to keep: it is never written, and a kept
    # anonymous one must not replace it.
    if config.token_cache is None or config.token_source != "anonymous":
        return None
    # Imported only when the option is on: a plain client never loads it.
    from ._token_cache import TokenCache

    return TokenCache(config.token_cache)


class _Call:
    """One API call whose whole body is read here; called once per attempt."""

    __slots__ = (
        "authenticated", "client_id_rule", "data", "generation", "headers", "info", "json",
        "method", "timeout", "transport", "url",
    )  # fmt: skip

    def __init__(
        self,
        transport: Transport,
        method: str,
        url: URL,
        json: Any,
        data: Callable[[], Any] | None,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        timeout: aiohttp.ClientTimeout | None,
    ) -> None:
        self.transport = transport
        self.method = method
        self.url = url
        self.json = json
        self.data = data
        self.headers = headers
        self.authenticated = authenticated
        self.timeout = timeout
        self.generation = 0  # of the token the last attempt sent, for a single-flight renewal
        self.client_id_rule = False
        self.info = _NO_ANSWER  # the last attempt's answer, once one decoded as a success

    async def reauth(self) -> None:
        t = self.transport
        await t.tokens.refresh(self.generation, t.fetch_anonymous_token)

    async def __call__(self) -> dict[str, Any]:
        t = self.transport
        token = None
        if self.authenticated:
            token = t.tokens.current
            if token is None:
                token, self.generation = await t.tokens.get(t.fetch_anonymous_token)
            else:  # no await: this runs on every call
                self.generation = t.tokens.generation
        hdrs = t._api_headers(self.headers, token)  # a path is always on the API's origin
        session = t._pool.get()
        proxy, proxy_headers = t._pool.proxy(self.url)
        deadlines = t._deadlines if self.timeout is None else None
        watch = deadlines.start() if deadlines is not None and deadlines.enabled else None
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        # Errors are translated inline rather than by ``translate_errors``: every call runs this.
        try:
            async with session.request(
                self.method,
                self.url,
                headers=hdrs,
                proxy=proxy,
                proxy_headers=proxy_headers,
                json=self.json,
                data=self.data() if self.data is not None else None,
                timeout=self.timeout or t._timeout,
                allow_redirects=False,
            ) as resp:
                if watch is not None:
                    watch.body = resp.content
                body = await resp.read()
        except asyncio.CancelledError:
            if watch is not None and watch.timed_out():
                raise errors.APITimeoutError(f"{self._what()}: timed out") from None
            raise
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            scrub_exception(exc)  # aiohttp's errors keep the request headers (the token)
            if isinstance(exc, asyncio.TimeoutError) or (watch is not None and watch.timed_out()):
                raise errors.APITimeoutError(f"{self._what()}: timed out") from exc
            raise errors.APIConnectionError(f"{self._what()}: {describe_cause(exc)}") from exc
        finally:
            if watch is not None:
                t._deadlines.finish(watch)
        if debug:
            elapsed = (time.perf_counter() - started) * 1e3
            logger.debug(
                "%s -> %s in %.1f ms%s", self._what(), resp.status, elapsed, request_id_note(resp)
            )
        try:
            doc = t._decode(resp, body)
        except errors.BadRequestError as exc:
            # API.md, "Error codes": HTTP 400 is "missing X-Client-Id". Decided by the
            # status and the code (none, or 400), never by the message's words.
            if not self.client_id_rule or exc.status != 400 or exc.code not in (None, 400):
                raise
            raise errors.MissingClientIdError(
                f"{exc.message} — taken as missing X-Client-Id (HTTP 400 on the token call)",
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
                body=exc.body,
            ) from exc
        self.info = ResponseInfo(resp.status, resp.headers, body)  # references, no copies
        return doc

    def _what(self) -> str:
        return f"{self.method} {self.url.path}"


_NO_ANSWER = ResponseInfo(0, CIMultiDictProxy(CIMultiDict()), b"")
