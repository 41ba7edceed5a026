"""Send one attempt of a request: the one place a request leaves the SDK.

aiohttp enforces the timeouts (``ClientTimeout``); a failure before the answer's
headers is the SDK's ``APIConnectionError`` saying whether the request was sent.
Tracing wraps the whole attempt (this send and its answer's check) in
``Transport._run``: see ``_telemetry.traced_attempts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from .pool import Pool
from .response import LOW_LEVEL, Response, connection_error

__all__ = ["send"]


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
) -> Response:
    """Send one attempt; the answer with its body unread, or ``APIConnectionError``."""
    session = pool.get()
    proxy, proxy_headers = pool.proxy(url)
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
        raise connection_error(exc, what, answered=False) from exc
    return Response(raw, what)
