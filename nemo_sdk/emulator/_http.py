"""Answers in the API's envelopes, the emulator's auth check, and its middleware."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from .faults import STREAM_KINDS, Fault
from .records import RecordedRequest
from .state import state_of
from .store import Token, User

ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Reply(Exception):
    """Raised by handlers to answer at once with an error response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def ok(data: Any) -> web.Response:
    """``{"code": 0, "message": "success", "data": ...}``."""
    return web.json_response({"code": 0, "message": "success", "data": data})


def render_ok(data: Any, **top: Any) -> web.Response:
    """The render endpoints' envelope: ``{"success": true, "data": ...}``."""
    return web.json_response({"success": True, "data": data, **top})


def fail(
    code: int,
    message: str,
    *,
    status: int = 200,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error in the ``code`` envelope (HTTP 200 by default, as the service does)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return Reply(web.json_response(body, status=status, headers=headers))


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def require_token(request: web.Request, scope: str | None = None) -> tuple[Token, User]:
    """The caller's token and user, or a 1001 answer."""
    store = state_of(request).store
    value = bearer(request)
    token = store.authenticate(value) if value else None
    if token is None:
        raise fail(1001, "token expired or invalid")
    if scope is not None and not token.allows(scope):
        raise fail(
            402,
            f"this token lacks the {scope!r} scope: anonymous tokens cannot {scope}; "
            "a registered token is needed",
            status=402,
        )
    return token, store.users[token.user_id]


def has_attribution(request: web.Request) -> bool:
    return all(request.headers.get(h) for h in ATTRIBUTION_HEADERS)


def _fault_response(fault: Fault) -> web.Response | None:
    p = fault.params
    status = p.get("status")
    if fault.kind == "429":
        headers = {}
        if p.get("retry_after") is not None:
            headers["Retry-After"] = str(p["retry_after"])
        return fail(429, "rate limited", status=429, headers=headers,
                    data={"limit": p["limit"]} if "limit" in p else None).response  # fmt: skip
    if fault.kind == "402":
        return fail(402, "free plan export blocked", status=402).response
    if fault.kind == "400":
        return fail(400, "missing X-Client-Id header", status=400).response
    if fault.kind == "404":
        if "detail" in p:
            return web.json_response({"detail": str(p["detail"])}, status=404)
        message = str(p.get("message", "render not found"))
        return web.json_response({"success": False, "error": message}, status=404)
    if fault.kind == "500":
        return web.json_response({"code": 500, "message": "internal error"}, status=status or 500)
    if fault.kind == "garbage" and "body" in p:
        # A chosen body: bytes as they are, anything else as JSON (well-formed, wrong shape).
        raw = p["body"]
        body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
        return web.Response(status=status or 200, body=body, content_type="application/json")
    if fault.kind == "garbage":
        return web.Response(
            status=status or 200, body=b"<html>\x00 upstream says no", content_type="text/html"
        )
    if fault.kind == "empty":
        return web.Response(status=status or 502, body=b"")
    if fault.kind.isdigit():
        messages = {
            "1001": "token expired or invalid",
            "1002": "session not found",
            "2001": "insufficient credits",
            "4001": "unsupported file type",
            "4002": "file too large",
        }
        return fail(int(fault.kind), messages[fault.kind], status=status or 200).response
    return None


async def _drop(
    request: web.Request, answer: web.StreamResponse | None = None
) -> web.StreamResponse:
    # Promise a body, send part of it, then cut the connection. With ``answer`` (the
    # handler ran: ``after_apply``), the part sent is the first half of its real body.
    body = _body_of(answer) if answer is not None else b""
    status = answer.status if answer is not None else 200
    resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    resp.content_length = max(4096, len(body))
    await resp.prepare(request)
    await resp.write(body[: len(body) // 2] or b'{"code":0,"message":"success","data":{"trunc')
    if request.transport is not None:
        request.transport.close()
    return resp


def _not_http(request: web.Request, fault: Fault) -> web.Response:
    # Bytes straight onto the socket where a status line belongs, then hang up: what a
    # confused proxy or a non-HTTP service on the port sends.
    raw = fault.params.get("body", b"<html>\x00 upstream says no")
    transport = request.transport
    if transport is not None:
        transport.write(raw if isinstance(raw, bytes) else str(raw).encode())
        transport.close()
    # aiohttp's attempt to send this one meets the closed transport and gives up quietly.
    return web.Response(status=502)


def _body_of(response: web.StreamResponse) -> bytes:
    body = response.body if isinstance(response, web.Response) else None
    return bytes(body) if isinstance(body, bytes | bytearray | memoryview) else b""


async def write_lying(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    body: bytes,
    delta: int,
) -> web.StreamResponse:
    """Send ``body`` under a ``Content-Length`` that is off by ``delta``, then hang up.

    ``delta > 0``: the header promises more than is sent. ``delta < 0``: it promises
    less, and the rest of the body follows anyway, past the end of the message.
    """
    claimed = max(0, len(body) + delta)
    resp = web.StreamResponse(status=status, headers=headers)
    resp.content_length = claimed
    await resp.prepare(request)
    await resp.write(body[:claimed])  # aiohttp never writes past the length it announced
    transport = request.transport
    if transport is not None:
        if claimed < len(body):
            transport.write(body[claimed:])
        transport.close()
    return resp


async def _redirect(fault: Fault) -> web.Response:
    location = str(fault.params.get("location", "http://127.0.0.1:9/elsewhere"))
    return web.Response(status=int(fault.params.get("status", 302)), headers={"Location": location})


def make_middleware(origin: str) -> Middleware:
    """Record every request, apply planned faults, turn ``Reply`` into its response."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        state = state_of(request)
        route = request.match_info.route.name or "unknown"
        state.requests.append(
            RecordedRequest(
                origin, request.method, request.path, route, CIMultiDict(request.headers)
            )
        )
        streaming = route in state.streaming_routes
        fault = state.faults.take(
            route, None if not streaming else _NON_STREAM_KINDS, match=_not_mid_stream
        )
        after: Fault | None = None  # a fault that acts on the handler's answer
        if fault is not None:
            if fault.kind == "slow" and fault.params.get("after_apply") and not streaming:
                after = fault
            elif fault.kind == "slow":
                await asyncio.sleep(float(fault.params.get("delay", 1.0)))
            elif fault.kind == "redirect":
                return await _redirect(fault)
            elif fault.kind == "lie" or (fault.kind == "drop" and fault.params.get("after_apply")):
                after = fault
            elif fault.kind == "drop":
                return await _drop(request)
            elif fault.kind == "garbage" and fault.params.get("raw"):
                return _not_http(request, fault)
            elif fault.kind not in ("truncate", "endless"):
                planned = _fault_response(fault)
                if planned is not None:
                    planned.headers["X-Request-Id"] = f"req_{uuid.uuid4().hex[:12]}"
                    return planned
        response: web.StreamResponse
        try:
            response = await handler(request)
        except Reply as reply:
            response = reply.response
        response.headers.setdefault("X-Request-Id", f"req_{uuid.uuid4().hex[:12]}")
        if after is not None and not response.prepared:
            if after.kind == "slow":  # the server acted; its answer is late
                await asyncio.sleep(float(after.params.get("delay", 1.0)))
                return response
            if after.kind == "drop":
                return await _drop(request, response)
            headers = {"Content-Type": response.headers.get("Content-Type", "application/json")}
            return await write_lying(
                request, response.status, headers, _body_of(response),
                int(after.params.get("delta", 64)),
            )  # fmt: skip
        return response

    return middleware


_NON_STREAM_KINDS = frozenset(
    k for k in ("400", "402", "404", "429", "500", "1001", "1002", "2001", "4001", "4002",
                "slow", "garbage", "empty", "redirect")
    if k not in STREAM_KINDS
)  # fmt: skip


def _not_mid_stream(fault: Fault) -> bool:
    # ``mid_stream`` and ``after_accept`` faults are the chat route's to carry out, once
    # it has taken the message.
    return not fault.params.get("mid_stream") and not fault.params.get("after_accept")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body, or a 400-style error."""
    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise fail(400, "body must be JSON", status=400) from None
    if not isinstance(body, dict):
        raise fail(400, "body must be a JSON object", status=400)
    return body


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer carries an ``X-Request-Id``, streamed ones too (prepared in the handler)."""
    response.headers.setdefault("X-Request-Id", f"req_{uuid.uuid4().hex[:12]}")
