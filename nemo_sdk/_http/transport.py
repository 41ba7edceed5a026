"""The request pipeline: what the resources call.

``answer()`` (a JSON call, its body read and decoded) and ``stream()`` (a body the
caller reads) are one pipeline, as httpx's ``send(stream=...)``: the token step
(:mod:`.credentials`), one attempt (:mod:`.send`), the answer checked (the envelope
decoder), all under the one retry loop (:mod:`.retry`). One aiohttp session per
client, shared by ``with_options`` copies; the bearer token only ever goes to the
API's own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from .. import errors
from .._util.logging import logger
from .._version import __version__
from ..config import ClientConfig, Timeouts
from . import envelope as _envelope
from .credentials import Credentials
from .pool import Pool, client_timeout
from .response import Response
from .response_info import ResponseInfo
from .retry import Sleep, with_retries
from .send import send
from .stream_log import log_stream_end, log_stream_open, request_id_note
from .telemetry import traced_attempts
from .tokens import ClientIdStore, TokenManager, explain_token_limit

if TYPE_CHECKING:
    from ..models.session import AnonymousToken
    from .token_cache import TokenCache

__all__ = ["ApiPath", "Transport", "check_id"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

ApiPath = str | Sequence[str]
"""A path on the API: a fixed string, or segments already checked by :func:`check_id`."""


def check_id(kind: str, value: str) -> str:
    """Refuse ids that could change the URL's meaning (``/``, ``?``, ``..``) before sending."""
    if not isinstance(value, str) or not _ID.fullmatch(value) or ".." in value:
        raise errors.InvalidArgument(f"invalid {kind}: {value!r}")
    return value


class _What:
    """``"GET /path"`` for messages, formatted only when a message is actually made."""

    __slots__ = ("method", "url")

    def __init__(self, method: str, url: URL) -> None:
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return f"{self.method} {self.url.path}"


class _Call:
    """One request as the pipeline carries it through its attempts."""

    __slots__ = (
        "authenticated", "client_id_rule", "data", "expect_content_type", "generation",
        "headers", "json", "method", "ok_statuses", "started", "timeout", "to_api", "url", "what",
    )  # fmt: skip

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        to_api: bool,
        json: Any,
        data: Callable[[], Any] | None,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        timeout: aiohttp.ClientTimeout,
        client_id_rule: bool = False,
        ok_statuses: frozenset[int] = frozenset({200}),
        expect_content_type: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.what = _What(method, url)
        self.to_api = to_api
        self.json = json
        self.data = data  # a factory: a retried multipart body is built afresh
        self.headers = headers
        self.authenticated = authenticated
        self.timeout = timeout
        self.client_id_rule = client_id_rule
        self.ok_statuses = ok_statuses
        self.expect_content_type = expect_content_type
        self.generation = 0  # of the token the last attempt sent, for a single-flight renewal
        self.started = 0.0  # when the last attempt was sent (perf_counter), for the log


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
        self._pool: Pool
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
            self._pool = Pool(http_session, config)
            self.client_ids = ClientIdStore(config.client_id, config.client_id_path)
            self.tokens = TokenManager(
                config.token,
                self.fetch_anonymous_token,
                can_refresh=config.allow_anonymous_reauth,
                cache=_token_cache_of(config),
                cache_key=str(config.api_url),
            )
        fixed: CIMultiDict[str] = CIMultiDict(config.attribution.headers())
        fixed["User-Agent"] = f"nemo-sdk/{__version__} (python; aiohttp)"
        self.credentials = Credentials(
            self.tokens, self.client_ids, fixed, self.fetch_anonymous_token
        )
        self._base = config.api_url
        self._fixed_urls: dict[str, URL] = {}
        self._origin = config.api_url.origin()
        self._web_url = str(config.web_url)
        self._timeout = client_timeout(config.timeouts)
        self._stream_timeout = client_timeout(config.timeouts, stream=True)

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

    def url(self, path: ApiPath) -> URL:
        """The API URL of a path given as a string or as already-checked segments."""
        if isinstance(path, str):
            url = self._fixed_urls.get(path)
            if url is None:  # fixed paths are few; building a yarl URL per call is not free
                url = self._base.with_path(self._base.path.rstrip("/") + path)
                self._fixed_urls[path] = url
            return url
        return self._base.joinpath(*path)

    # -- the pipeline ---------------------------------------------------------------

    async def _run(
        self,
        call: _Call,
        idempotent: bool | None,
        check: Callable[[_Call, Response], Awaitable[T]],
        template: str | None,
    ) -> T:
        """Token, attempts and their checked answers, under every retry rule."""
        credentials = self.credentials
        if call.authenticated and self.tokens.current is None:
            await credentials.first_token()

        async def attempt(number: int) -> T:
            ready = credentials.ready_headers(
                call.headers, to_api=call.to_api, authenticated=call.authenticated
            )
            if ready is None:  # no token: fetched (single flight) before this attempt
                ready = await credentials.headers(
                    call.headers, to_api=call.to_api, authenticated=call.authenticated
                )
            headers, call.generation = ready
            call.started = time.perf_counter()
            response = await send(
                self._pool,
                call.method,
                call.url,
                call.what,
                headers=headers,
                json=call.json,
                data=call.data() if call.data is not None else None,
                timeout=call.timeout,
            )
            return await check(call, response)

        async def reauth() -> None:
            await credentials.renew(call.generation)

        async def renew_client_id() -> None:
            credentials.renew_client_id()

        return await with_retries(
            # The telemetry seam: a span per attempt (``attempt`` itself when tracing is off).
            traced_attempts(attempt, call.method, call.url, template),
            idempotent=call.method in _IDEMPOTENT if idempotent is None else idempotent,
            settings=self.config.retry,
            reauth=reauth if call.authenticated and self.tokens.can_refresh else None,
            # A client id the user configured is theirs: a 400 is reported, never "fixed"
            # by replacing it (and the request is then not re-sent).
            renew_client_id=renew_client_id
            if call.client_id_rule and not self.client_ids.configured
            else None,
            sleep=self.sleep,
            what=call.what,
        )

    def _decode(self, call: _Call, response: Response, body: bytes) -> dict[str, Any]:
        try:
            return _envelope.decode(
                response.status,
                response.headers,
                body,
                web_url=self._web_url,
                user_id=self.tokens.user_id,
            )
        except errors.BadRequestError as exc:
            # API.md, "Error codes": HTTP 400 is "missing X-Client-Id". Decided by the
            # status and the code (none, or 400), never by the message's words.
            if not call.client_id_rule or exc.status != 400 or exc.code not in (None, 400):
                raise
            raise errors.MissingClientIdError(
                f"{exc.message} — taken as missing X-Client-Id (HTTP 400 on the token call)",
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
                body=exc.body,
            ) from exc

    async def _read_answer(
        self, call: _Call, response: Response
    ) -> tuple[dict[str, Any], ResponseInfo]:
        """A JSON call's check: the whole body, decoded from its envelope."""
        try:
            body = await response.read()
        finally:
            response.release()
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.perf_counter() - call.started) * 1e3
            logger.debug(
                "%s -> %s in %.1f ms%s",
                call.what, response.status, elapsed, request_id_note(response.headers),
            )  # fmt: skip
        doc = self._decode(call, response, body)
        return doc, ResponseInfo(response.status, response.headers, body)  # references

    async def _open_stream(self, call: _Call, response: Response) -> Response:
        """A stream's check: an ok answer is the caller's to read; anything else an error.

        With ``expect_content_type``, an ok status of another content type is read as
        an envelope: the API answers errors (1001, 2001...) with HTTP 200 and a JSON
        body, and those must go through the retry rules like any other.
        """
        expected = call.expect_content_type
        if response.status in call.ok_statuses and (
            expected is None or response.content_type == expected
        ):
            return response
        try:
            body = await response.read()
        finally:
            response.release()
        self._decode(call, response, body)
        if response.status in call.ok_statuses:
            raise errors.InvalidResponseError(
                f"{call.what}: expected {expected}, got {response.content_type}",
                status=response.status,
                body=body.decode("utf-8", "replace"),
            )
        raise errors.APIError(
            f"{call.what}: unexpected HTTP {response.status}", status=response.status
        )

    # -- what the resources call ----------------------------------------------------

    async def answer(
        self,
        method: str,
        path: ApiPath,
        *,
        json: Any = None,
        data: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        timeout: Timeouts | None = None,
        client_id_rule: bool = False,
    ) -> tuple[dict[str, Any], ResponseInfo]:
        """One API call with every retry rule: the decoded body and the answer it came from.

        ``data`` is a factory so that a retried multipart body is built afresh.
        ``timeout`` replaces the configured timeouts for this call.
        ``client_id_rule``: this is the call ``X-Client-Id`` is for (the token call),
        whose HTTP 400 means the id was missing (API.md, "Error codes").
        """
        call = _Call(
            method,
            self.url(path),
            to_api=True,  # a path is always on the API's origin
            json=json,
            data=data,
            headers=headers,
            authenticated=authenticated,
            timeout=self._timeout if timeout is None else client_timeout(timeout),
            client_id_rule=client_id_rule,
        )
        template = path if isinstance(path, str) else None  # a path without ids
        return await self._run(call, idempotent, self._read_answer, template)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: ApiPath | URL,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
        expect_content_type: str | None = None,
        timeout: Timeouts | None = None,
    ) -> AsyncIterator[Response]:
        """A response whose body the caller reads incrementally (chat, downloads).

        The same pipeline as :meth:`answer`; the retry rules apply until the response
        headers arrive, after that the body belongs to the caller. Leaving the block
        early closes the connection instead of draining what may be a 15-minute
        stream. ``timeout`` replaces the configured ones (a stream has no total limit).
        """
        url = path_or_url if isinstance(path_or_url, URL) else self.url(path_or_url)
        to_api = url.origin() == self._origin
        if authenticated and not to_api:
            # Output URLs live on a CDN host; the token must never reach it.
            raise errors.InvalidArgument(f"refusing to send the token to {url.origin()}")
        call = _Call(
            method,
            url,
            to_api=to_api,
            json=json,
            data=None,
            headers=headers,
            authenticated=authenticated,
            timeout=self._stream_timeout
            if timeout is None
            else client_timeout(timeout, stream=True),
            ok_statuses=ok_statuses,
            expect_content_type=expect_content_type,
        )
        started = time.perf_counter()
        template = path_or_url if isinstance(path_or_url, str) else None
        response = await self._run(call, idempotent, self._open_stream, template)
        # A stream's log line: where (another origin by host and path only: a signed
        # URL's query is a credential), the status, the request id, and when it ended.
        port = f":{url.explicit_port}" if url.explicit_port else ""
        where = str(call.what) if to_api else f"{method} {url.host}{port}{url.path}"
        log_stream_open(where, response, started)
        try:
            yield response
        finally:
            response.close()
            log_stream_end(where, started)

    async def fetch_anonymous_token(self) -> AnonymousToken:
        """``POST /api/auth/anonymous-token`` with the client id and no bearer token."""
        # Imported here, not at the top: the client core defines no pydantic model, so
        # ``from nemo_sdk import NemoClient`` does not pay for pydantic's machinery.
        from ..models.session import AnonymousToken

        try:
            doc, _ = await self.answer(
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
            raise exc.with_hint(
                "the service refused the client id you configured "
                "(client_id=... or NEMO_CLIENT_ID); it is never replaced: check its value "
                "(a UUID), or unset it to let the SDK make and keep one"
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
    from .token_cache import TokenCache

    return TokenCache(config.token_cache)
