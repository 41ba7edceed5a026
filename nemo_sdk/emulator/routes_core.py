"""Tokens, sessions, claim links, credits and state (API.md, "Endpoints")."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timezone

from aiohttp import web

from ._http import fail, ok, read_json, require_token
from .state import state_of
from .store import TokenLimitReached


async def anonymous_token(request: web.Request) -> web.Response:
    state = state_of(request)
    client_id = request.headers.get("X-Client-Id", "").strip()
    if not client_id:
        raise fail(400, "missing X-Client-Id header", status=400)
    try:
        token = state.store.anonymous_token(client_id, request.remote or "127.0.0.1")
    except TokenLimitReached as exc:
        raise fail(
            429, str(exc), status=429, data={"limit": exc.limit},
            headers={"Retry-After": str(int(exc.retry_after) + 1)},
        ) from None  # fmt: skip
    user = state.store.users[token.user_id]
    expires = datetime.fromtimestamp(token.expires_at, tz=timezone.utc)
    return ok(
        {
            "token": token.value,
            "user_id": token.user_id,
            "expires_at": expires.isoformat().replace("+00:00", "Z"),
            "credits": user.available,
            "scopes": list(token.scopes),
        }
    )


async def create_session(request: web.Request) -> web.Response:
    state = state_of(request)
    token, _ = require_token(request, "write")
    body = await read_json(request)
    language = body.get("language")
    session = state.store.create_session(
        token.user_id, language if isinstance(language, str) else None
    )
    width, height = state.knobs.canvas_width, state.knobs.canvas_height
    common = math.gcd(width, height)
    session.canvas = {
        "width": width,
        "height": height,
        "aspect_ratio": f"{width // common}:{height // common}",
    }
    return ok({"task_id": session.task_id, "session_id": session.id, "user_id": token.user_id})


async def claim_token(request: web.Request) -> web.Response:
    state = state_of(request)
    token, _ = require_token(request)
    body = await read_json(request)
    session = state.store.session_of(token.user_id, str(body.get("session_id", "")))
    if session is None or session.task_id != body.get("task_id"):
        raise fail(1002, "session not found")
    return ok({"claim_token": f"clm_{secrets.token_urlsafe(18)}", "expires_in": 604800})


async def credits(request: web.Request) -> web.Response:
    _, user = require_token(request, "read")
    return ok({"available": user.available, "frozen": user.frozen,
               "total": user.available + user.frozen})  # fmt: skip


async def state(request: web.Request) -> web.Response:
    state = state_of(request)
    token, _ = require_token(request, "read")
    session = state.store.session_of(token.user_id, request.match_info["sid"])
    if session is None:
        raise fail(1002, "session not found")
    return ok({"state": session.state()})


def setup(app: web.Application) -> None:
    """Add the routes of this module to the API app."""
    app.router.add_post("/api/auth/anonymous-token", anonymous_token, name="token")
    app.router.add_post("/api/tasks/me/with-session/nemo_agent", create_session, name="session")
    app.router.add_post("/api/auth/claim-token", claim_token, name="claim")
    app.router.add_get("/api/credits/balance/simple", credits, name="credits")
    app.router.add_get("/api/state/nemo_agent/me/{sid}/latest", state, name="state")
