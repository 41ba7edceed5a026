"""Send one attempt of a request: the one place a request leaves the SDK.

aiohttp enforces the timeouts (``ClientTimeout``); a failure before the answer's
headers is the SDK's ``APIConnectionError`` saying whether the request was sent.

The observation seam: every attempt (its method, URL, attempt number, status,
request id or error, start and end) is handed to the transport's ``observers``
once its headers arrived or it failed. Tracing (request spans) hooks in there;
with no observer, nothing is measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
from yarl import URL

from .pool import Pool
from .response import LOW_LEVEL, Response, connection_error

__all__ = ["Attempt", "Observer", "send"]


class Attempt:
    """One attempt of a request, as observers see it (times in ``time.time_ns()``)."""

    __slots__ = (
        "ended_ns", "error", "method", "number", "request_id", "started_ns", "status", "url",
    )  # fmt: skip

    def __init__(self, method: str, url: URL, number: int) -> None:
        self.method = method
        self.url = url  # may carry a signed query (a credential): record with care
        self.number = number  # 1 for the first attempt, 2 for the first retry...
        self.started_ns = time.time_ns()
        self.ended_ns = 0
        self.status: int | None = None
        self.request_id: str | None = None
        self.error: BaseException | None = None  # the SDK error, when it failed


Observer = Callable[[Attempt], None]
"""Called once per attempt, when its answer's headers arrived or it failed."""


async def send(
    pool: Pool,
    method: str,
    url: URL,
    what: object,
    *,
    headers: Mapping[str, str],
    json: Any,
    data: Any,
    timeout: aiohttp.ClientTimeout,
    number: int,
    observers: Sequence[Observer],
) -> Response:
    """Send one attempt; the answer with its body unread, or ``APIConnectionError``."""
    session = pool.get()
    proxy, proxy_headers = pool.proxy(url)
    attempt = Attempt(method, url, number) if observers else None
    try:
        raw = await session.request(
            method,
            url,
            headers=headers,
            proxy=proxy,
            proxy_headers=proxy_headers,
            json=json,
            data=data,
            timeout=timeout,
            allow_redirects=False,
        )
    except LOW_LEVEL as exc:
        error = connection_error(exc, what, answered=False)
        if attempt is not None:
            attempt.error = error
            _observed(attempt, observers)
        raise error from exc
    except BaseException as exc:  # a cancel, or the upload's own source failing
        if attempt is not None:
            attempt.error = exc
            _observed(attempt, observers)
        raise
    response = Response(raw, what)
    if attempt is not None:
        attempt.status, attempt.request_id = response.status, response.request_id
        _observed(attempt, observers)
    return response


def _observed(attempt: Attempt, observers: Sequence[Observer]) -> None:
    attempt.ended_ns = time.time_ns()
    for observe in observers:
        observe(attempt)
