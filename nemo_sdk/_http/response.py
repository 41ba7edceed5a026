"""The SDK's own HTTP answer: every read maps aiohttp's errors to the SDK's typed ones.

What leaves this package is a :class:`Response` or a ``NemoError``, never an aiohttp
type: a connection error says itself whether the request may have reached the server
(``APIConnectionError.request_sent``), so that nobody has to inspect ``__cause__``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from multidict import CIMultiDictProxy

from .. import errors
from .._util.logging import redact
from .._util.secrets import scrub_exception
from .envelope import request_id_of

__all__ = ["Response", "connection_error", "describe_cause"]

# Failures that come before aiohttp writes a byte of the request: it writes only once it
# holds a connection, and a connect timeout also covers the wait for a free one in the pool.
_BEFORE_SENDING = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# What a send or a read may raise from aiohttp (asyncio's TimeoutError: the total limit).
LOW_LEVEL = (asyncio.TimeoutError, aiohttp.ClientError)

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


def connection_error(
    exc: BaseException, what: object, *, answered: bool
) -> errors.APIConnectionError:
    """The SDK error for a low-level failure of ``what``; raise it ``from exc``.

    ``answered``: the response headers had arrived (the request was surely sent).
    The low-level error is scrubbed in place first: aiohttp's keep the request headers.
    """
    scrub_exception(exc)
    sent = answered or not isinstance(exc, _BEFORE_SENDING)
    if isinstance(exc, asyncio.TimeoutError):
        return errors.APITimeoutError(f"{what}: timed out", request_sent=sent)
    return errors.APIConnectionError(f"{what}: {describe_cause(exc)}", request_sent=sent)


class Response:
    """One HTTP answer: status and headers at once, the body through the read methods.

    Every read raises ``APIConnectionError`` (``APITimeoutError`` for the read-idle
    limit) instead of aiohttp's errors. :meth:`close` drops the connection (an unread
    stream is never drained); :meth:`release` hands a fully read one back to the pool.
    """

    __slots__ = ("_raw", "headers", "status", "what")

    def __init__(self, raw: aiohttp.ClientResponse, what: object) -> None:
        self._raw = raw
        self.status: int = raw.status
        self.headers: CIMultiDictProxy[str] = raw.headers
        self.what = what  # "METHOD path", for messages

    @property
    def content_type(self) -> str:
        """The media type of ``Content-Type``, without parameters (``application/json``)."""
        return self._raw.content_type

    @property
    def content_length(self) -> int | None:
        """``Content-Length`` as a number, when the server sent one."""
        return self._raw.content_length

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (``X-Request-Id``...), when it sent one."""
        return request_id_of(self.headers)

    async def read(self) -> bytes:
        """The whole body."""
        try:
            return await self._raw.read()
        except LOW_LEVEL as exc:
            self._raw.close()
            raise connection_error(exc, self.what, answered=True) from exc
        except BaseException:
            self._raw.close()  # cancelled mid-body: the connection cannot be reused
            raise

    async def read_some(self) -> bytes:
        """Whatever part of the body has arrived (waiting for some); ``b""`` at its end."""
        try:
            return await self._raw.content.readany()
        except LOW_LEVEL as exc:
            raise connection_error(exc, self.what, answered=True) from exc

    async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The body in chunks of at most ``size`` bytes."""
        content = self._raw.content
        while True:
            try:
                chunk = await content.read(size)
            except LOW_LEVEL as exc:
                raise connection_error(exc, self.what, answered=True) from exc
            if not chunk:
                return
            yield chunk

    def release(self) -> None:
        """Give the connection back to the pool (after the body was read)."""
        self._raw.release()

    def close(self) -> None:
        """Close the connection, whatever of the body is left unread."""
        self._raw.close()

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.what}>"
