"""A scripted ``/run_sse`` server on 127.0.0.1: it answers a chat turn with given bytes.

For the wire forms the emulator does not send (or not yet): ADK events written by
hand after google-adk's own server (or captured from it), pauses of any length,
a 404 in FastAPI's shape. It serves the state route too (a fixed draft), so that
``nemo.chat`` runs its whole turn against it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from nemo_sdk import NemoClient
from nemo_sdk.testing import serving
from tests.conftest import FAST_RETRY

SESSION = "ses_adk"
DRAFT: dict[str, Any] = {"t": [{"tt": 7, "sg": [{"d": 1000, "m": {"text": "x"}}]}]}

Step = bytes | float  # bytes to write, or seconds to wait


@dataclass
class Script:
    """What the server answers to each ``POST /run_sse``, and what it was sent."""

    steps: Sequence[Step] = ()
    status: int = 200
    error_body: dict[str, Any] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    state_reads: int = 0


def sse(*objects: Any) -> bytes:
    """``data: <json>`` blocks, one per object."""
    return b"".join(b"data: " + json.dumps(obj).encode() + b"\n\n" for obj in objects)


@asynccontextmanager
async def scripted(
    script: Script, **client_options: Any
) -> AsyncIterator[tuple[NemoClient, Script]]:
    """``async with scripted(Script(steps=[...])) as (nemo, script)``: a client on the server."""

    async def run_sse(request: web.Request) -> web.StreamResponse:
        script.bodies.append(await request.json())
        if script.status != 200:
            return web.json_response(script.error_body or {}, status=script.status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for step in script.steps:
            if isinstance(step, bytes):
                await response.write(step)
            else:
                await asyncio.sleep(step)
        await response.write_eof()
        return response

    async def state(request: web.Request) -> web.Response:
        script.state_reads += 1
        return web.json_response({"code": 0, "data": {"state": {"draft": DRAFT}}})

    async def route(request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and request.path == "/run_sse":
            return await run_sse(request)
        if request.method == "GET" and request.path.startswith("/api/state/nemo_agent/me/"):
            return await state(request)
        raise web.HTTPNotFound()

    client_options.setdefault("retry", FAST_RETRY)
    async with (
        serving(route) as url,
        NemoClient(base_url=url, token="nmv_usr_test", **client_options) as nemo,
    ):
        yield nemo, script


# --- ADK 2.x events, written after google-adk's own server (see API.md) ---------------

ACTIONS: dict[str, Any] = {
    "stateDelta": {},
    "artifactDelta": {},
    "requestedAuthConfigs": {},
    "requestedToolConfirmations": {},
}


def adk_event(
    event_id: str,
    parts: list[dict[str, Any]] | None,
    *,
    partial: bool | None = None,
    role: str = "model",
    **extra: Any,
) -> dict[str, Any]:
    """One ADK event as its server serialises it (camelCase, ``None`` fields left out)."""
    event: dict[str, Any] = {}
    if parts is not None:
        event["content"] = {"parts": parts, "role": role}
    if partial is not None:
        event["partial"] = partial
    if role == "model" and parts and partial is not True:
        event["finishReason"] = "STOP"
    event.update(
        invocationId="e-1",
        author="nemo_agent",
        actions=dict(ACTIONS),
        id=event_id,
        timestamp=1795985433.92,
    )
    event.update(extra)
    return event


def call(call_id: str) -> dict[str, Any]:
    return {"functionCall": {"id": call_id, "args": {"prompt": "a cat"}, "name": "generate_video"}}


def answer(call_id: str) -> dict[str, Any]:
    response = {"status": "success", "url": "https://cdn.example/v.mp4"}
    return {"functionResponse": {"id": call_id, "name": "generate_video", "response": response}}


FIRST = "Sure — generating it now."
LAST = "Done! Your video is ready."
REPLY = f"{FIRST}\n\n{LAST}"


def tool_turn(streaming: bool) -> list[dict[str, Any]]:
    """A turn that says something, calls a tool (text and call sharing parts), and ends."""
    if not streaming:
        return [
            adk_event("ev-1", [{"text": FIRST}, call("adk-1")]),
            adk_event("ev-2", [answer("adk-1")], role="user"),
            adk_event("ev-3", [{"text": LAST}]),
        ]
    return [
        adk_event("ev-1", [{"text": "Sure — "}], partial=True),
        adk_event("ev-1", [{"text": "generating it now."}], partial=True),
        # ADK numbers function calls per event: the partial's id is not the final's.
        adk_event("ev-1", [call("adk-p")], partial=True),
        adk_event("ev-1", [{"text": FIRST}, call("adk-1")], partial=False),
        adk_event("ev-2", [answer("adk-1")], role="user"),
        adk_event("ev-3", [{"text": "Done! "}], partial=True),
        adk_event("ev-3", [{"text": "Your video is ready."}], partial=True),
        adk_event("ev-3", [{"text": LAST}], partial=False),
    ]
