"""``POST /run_sse`` (route ``chat``) and ``GET /media/{name}`` (route ``media``).

One chat turn: check the body (API.md's snake_case shape, strictly), the
session and the credits (2001 before the stream starts), then stream the
agent's events (:mod:`.agent`) in the ADK shape or, with the knob
``event_shape="flat"``, the flat one. Every turn starts with keep-alives in
both forms (the shape's heartbeat and a ``: keep-alive`` comment) and sends
more every ``heartbeat_every`` seconds while the agent works (in the ADK
shape, unless ``adk_keepalives=False``: real ADK is silent).

The ADK shape is google-adk 2.x's own (:mod:`.wire` builds both shapes): one
event per model turn, or, when the body asks for ``"streaming": true`` (or the
knob ``adk_streaming``), partial chunks then their aggregate under one id; an
unknown session is ADK's HTTP 404 ``{"detail": "Session not found: <sid>"}``.
Knobs ``thoughts``, ``text_with_call`` and ``actions_events`` add what ADK may
also send; faults ``turn_error`` and ``silent`` make a turn fail or a tool go quiet.

Faults on ``chat``: ``drop`` cuts the stream mid-event after the edit is
applied (the edit stays, as on the real service); ``drop`` with
``before_apply=True`` cuts it before, and the turn is abandoned (credits
refunded); ``slow`` with ``after_accept=True`` takes the message, then sends
the stream's headers ``delay`` seconds late and carries the turn out even if
the client has given up. Every turn is recorded (:func:`turns`), with whether
the client went away before the end; a client that leaves is normal and only
logged at debug level.

Generated media are written to ``<data_dir>/media`` and served, without
authentication, at ``<emu.url>/media/<name>`` (:func:`media_path` maps such a
URL back to its file).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from . import agent
from ._http import fail, read_json, require_token
from .faults import Fault
from .records import ChatTurn
from .state import STATE_KEY, EmulatorState, HasState, state_of
from .store import Session, User
from .wire import Shape, block

__all__ = ["ChatTurn", "media_dir", "media_path", "setup", "turns"]

_MEDIA_NAME = re.compile(r"[A-Za-z0-9_\-]+\.(mp4|m4a)")
_log = logging.getLogger(__name__)


def _state(source: EmulatorState | HasState) -> EmulatorState:
    return source if isinstance(source, EmulatorState) else source.state


def turns(emu: EmulatorState | HasState) -> list[ChatTurn]:
    """Every chat turn ``emu`` (an emulator, or its state) accepted, in order."""
    return _state(emu).turns


def media_dir(emu: EmulatorState | HasState) -> Path:
    """Where generated media are written."""
    return _state(emu).data_dir / "media"


def media_path(emu: EmulatorState | HasState, url: str) -> Path | None:
    """The file behind a generated media URL of ``emu``, or ``None``."""
    prefix = f"{_state(emu).url}/media/"
    name = url[len(prefix) :] if url.startswith(prefix) else ""
    path = media_dir(emu) / name
    return path if _MEDIA_NAME.fullmatch(name) and path.is_file() else None


class _Writer:
    """Writes SSE blocks; after the client is gone, writes become no-ops (the work goes on)."""

    def __init__(
        self, response: web.StreamResponse, turn: ChatTurn, delay: float, heartbeat_every: float
    ) -> None:
        self.response = response
        self.turn = turn
        self.delay = delay
        self.heartbeat_every = heartbeat_every
        self.keepalives = True

    async def raw(self, block: bytes) -> None:
        if self.turn.disconnected:
            return
        try:
            await self.response.write(block)
        except (ConnectionError, RuntimeError):  # RuntimeError: writing after EOF
            self.gone()

    async def end(self) -> None:
        """End the stream; a client already gone needs no end."""
        if self.turn.disconnected:
            return
        try:
            await self.response.write_eof()
        except (ConnectionError, RuntimeError):
            self.gone()

    def gone(self) -> None:
        # Clients leave mid-stream all the time (a caller breaks out, a process exits):
        # worth a debug line, never a traceback.
        if not self.turn.disconnected:
            _log.debug("chat client for %s left mid-stream", self.turn.session_id)
        self.turn.disconnected = True

    async def event(self, obj: dict[str, Any]) -> None:
        await self.raw(block(obj))
        if self.delay:
            await asyncio.sleep(self.delay)

    async def events(self, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            await self.event(obj)


def _message_of(body: dict[str, Any]) -> tuple[str, str]:
    """The session id and message text of a ``/run_sse`` body, or a 400."""
    if body.get("app_name") != "nemo_agent" or body.get("user_id") != "me":
        raise fail(400, 'app_name must be "nemo_agent" and user_id "me" (snake_case)', status=400)
    sid, message = body.get("session_id"), body.get("new_message")
    parts = message.get("parts") if isinstance(message, dict) else None
    first = parts[0] if isinstance(parts, list) and parts else None
    text = first.get("text") if isinstance(first, dict) else None
    if not isinstance(sid, str) or not isinstance(text, str) or not text.strip():
        raise fail(400, "session_id and new_message.parts[0].text are required", status=400)
    return sid, text


def _cost(state: EmulatorState, session: Session, intent: agent.Intent) -> int:
    if intent.tool is None:
        return 0
    if intent.generates:
        return state.knobs.generation_cost
    return 0 if session.id in state.edit_charged else state.knobs.edit_cost


async def run_sse(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    token, user = require_token(request, "write")
    try:
        body = await read_json(request)
    except ConnectionError:
        # Gone before its message was read (e.g. it timed out while a ``slow`` fault
        # held the request): nothing was taken, nothing to do.
        _log.debug("chat client left before its message was read")
        return web.Response(status=499)
    sid, message = _message_of(body)
    flat = state.knobs.event_shape == "flat"
    session = state.store.session_of(token.user_id, sid)
    if session is None:
        if not flat:  # what ADK answers, before any stream
            return web.json_response({"detail": f"Session not found: {sid}"}, status=404)
        raise fail(1002, "session not found")
    intent = agent.understand(message, session.video_infos, session.draft)
    cost = _cost(state, session, intent)
    if cost > user.available:
        raise fail(2001, f"insufficient credits: this needs {cost}, {user.available} available")
    drop = state.faults.take("chat", frozenset({"drop"}))
    endless = state.faults.take("chat", frozenset({"endless"}))
    expire = state.faults.take("chat", frozenset({"1001"}), match=_mid_stream)
    late = state.faults.take("chat", frozenset({"slow"}), match=_after_accept)
    failure = state.faults.take("chat", frozenset({"turn_error"}))
    silent = state.faults.take("chat", frozenset({"silent"}))
    session.messages.append(message)
    turn = ChatTurn(sid, message, intent.tool)
    state.turns.append(turn)

    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    out = _Writer(response, turn, state.knobs.sse_delay, state.knobs.heartbeat_every)
    # Real ADK sends no keep-alives; the emulator's ADK shape does unless told not to.
    out.keepalives = flat or state.knobs.adk_keepalives
    if late is not None:
        await asyncio.sleep(float(late.params.get("delay", 1.0)))
    try:
        await response.prepare(request)
    except ConnectionError:
        out.gone()  # the message was taken: the turn goes on, its writes are no-ops
    streaming = state.knobs.adk_streaming or body.get("streaming") is True
    shape = Shape(flat, streaming=streaming, thoughts=state.knobs.thoughts)
    try:
        await _keepalive(out, shape)
        if endless is not None:
            return await _endless(request, out, shape, endless)
        await _keepalives_for(out, shape, asyncio.sleep(state.knobs.think_seconds))
        if expire is not None:
            # The token runs out while the turn works: the work finishes (the service
            # already accepted it), then the stream reports 1001 and ends.
            if intent.tool is not None:
                await _tool_turn(state, session, user, intent, cost, out, shape, "after")
            state.store.expire(token.value)
            await out.event({"code": 1001, "message": "token expired or invalid"})
            await out.end()
            turn.completed = not turn.disconnected
            return response
        if failure is not None:
            await _fail(out, shape, failure)
            await out.end()
            turn.completed = not turn.disconnected
            return response
        silence = float(silent.params.get("seconds", 1.0)) if silent is not None else 0.0
        if intent.tool is None:
            await asyncio.sleep(silence)
            await _say(out, shape, agent.answer(message), drop is not None)
            if drop is not None:
                return await _cut(request, out)
        else:
            cut = None if drop is None else "before" if drop.params.get("before_apply") else "after"
            if not await _tool_turn(state, session, user, intent, cost, out, shape, cut, silence):
                return await _cut(request, out)
        await out.end()
    except ConnectionError:  # a write outside ``_Writer``: the client left all the same
        out.gone()
        return response
    except asyncio.CancelledError:
        turn.disconnected = True
        raise
    turn.completed = not turn.disconnected
    return response


async def _tool_turn(
    state: EmulatorState,
    session: Session,
    user: User,
    intent: agent.Intent,
    cost: int,
    out: _Writer,
    shape: Shape,
    cut: str | None,
    silence: float = 0.0,
) -> bool:
    """Run the tool and stream its events; ``False`` to cut the stream (``cut`` the apply)."""
    knobs = state.knobs
    call_id = shape.call_id()
    assert intent.tool is not None
    # Frozen while running, spent when done (API.md, credits: "frozen: reserved by running work").
    user.available -= cost
    user.frozen += cost
    say = f"Sure, running {intent.tool} now." if knobs.text_with_call else None
    await out.events(shape.call(call_id, intent.tool, intent.args, say))
    if cut == "before":  # the turn is abandoned: nothing applied, nothing charged
        user.available += cost
        user.frozen -= cost
        return False
    try:
        await asyncio.sleep(silence)  # a silent tool: not even a keep-alive
        result = await _keepalives_for(out, shape, _apply(state, session, intent))
    except BaseException:
        user.available += cost
        user.frozen -= cost
        raise
    user.frozen -= cost
    if cost and not intent.generates:
        state.edit_charged.add(session.id)
    session.applied_edits += 1
    if cut == "after":  # the edit stays, as when the real service loses a stream
        return False
    delta = None
    if knobs.actions_events:
        artifact = str(result.get("name") or f"{intent.tool}.json")
        delta = {"state": {"applied_edits": session.applied_edits}, "artifacts": {artifact: 0}}
    await out.events(shape.result(call_id, intent.tool, result, delta))
    if state.random.random() >= knobs.no_text_rate:
        await _say(out, shape, agent.done_text(intent, result))
    if knobs.temporary_issue_rate and state.random.random() < knobs.temporary_issue_rate:
        await _say(out, shape, "I encountered a temporary issue. Please try again later.")
    return True


async def _apply(state: EmulatorState, session: Session, intent: agent.Intent) -> dict[str, Any]:
    """Change the session's draft as ``intent`` asks; the tool's result."""
    knobs, args = state.knobs, intent.args
    directory = media_dir(state)

    def url_of(name: str) -> str:
        return f"{state.url}/media/{name}"

    if args.get("uploads"):  # uploaded media the message refers to (agent.understand)
        session.draft = agent.place_uploads(session.draft, args["uploads"], session.video_infos)
        if intent.tool == "use_uploads":
            return {"status": "success", "placed": args["uploads"]}
    if intent.tool == "generate_video":
        clip = agent.clip_for(args, agent.ClipSettings(
            knobs.clip_seconds, knobs.clip_width, knobs.clip_height, knobs.clip_fps
        ))  # fmt: skip
        media = await agent.make_clip(args["prompt"], directory, clip, url_of)
        meta = {k: media[k] for k in ("url", "name", "width", "height")}
        session.draft = agent.add_video(session.draft, meta, media["duration"] * 1000)
        session.generated_media.append(media)
        canvas = agent.canvas_for(args, clip)
        if canvas is not None:
            width, height, ratio = canvas
            session.canvas = {"width": width, "height": height, "aspect_ratio": ratio}
            session.draft = agent.set_size(session.draft, width, height)
        return {"status": "success", **media}
    if intent.tool == "add_bgm":
        # As long as the draft, or as a generated clip when there is nothing yet.
        length = agent.draft_length(session.draft) or knobs.clip_seconds * 1000
        media = await agent.make_music(args["name"], length / 1000, directory, url_of)
        meta = {"url": media["url"], "name": args["name"], "volume": args["volume"]}
        session.draft = agent.add_audio(session.draft, meta, length)
        session.generated_media.append(media)
        return {"status": "success", "track": "bgm", **meta}
    if intent.tool == "add_title":
        session.draft = agent.add_text(session.draft, args["text"], args["seconds"] * 1000)
        return {"status": "success", "track": "title", "text": args["text"]}
    if intent.tool == "trim":
        session.draft = agent.trim(session.draft, args["seconds"] * 1000)
        return {"status": "success", "duration": session.draft["d"]}
    width, height = agent.aspect_size(args["ratio"])
    session.canvas = {"width": width, "height": height, "aspect_ratio": args["ratio"]}
    session.draft = agent.set_size(session.draft, width, height)
    return {"status": "success", "width": width, "height": height}


async def _fail(out: _Writer, shape: Shape, fault: Fault) -> None:
    """The ``turn_error`` fault: the model turn fails, reported inside the 200 stream."""
    code = str(fault.params.get("code", "RuntimeError"))
    message = str(fault.params.get("message", "model backend unavailable"))
    line = bool(fault.params.get("line", not code.isupper()))
    out.turn.failed = code
    for sse in shape.failure(code, message, str(fault.params.get("text", "")), line):
        await out.raw(sse)


async def _say(out: _Writer, shape: Shape, text: str, cut_after_first: bool = False) -> None:
    for event in shape.text(text):
        await out.event(event)
        if cut_after_first:
            return


async def _keepalive(out: _Writer, shape: Shape) -> None:
    if not out.keepalives:
        return
    await out.raw(shape.heartbeat())
    await out.raw(b": keep-alive\n\n")


async def _keepalives_for(out: _Writer, shape: Shape, work: Any) -> Any:
    """Await ``work`` while sending keep-alives every ``heartbeat_every`` seconds."""
    task = asyncio.ensure_future(work)
    every = out.heartbeat_every
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            await _keepalive(out, shape)
    finally:
        if not task.done():
            task.cancel()


def _mid_stream(fault: Fault) -> bool:
    return bool(fault.params.get("mid_stream"))


def _after_accept(fault: Fault) -> bool:
    return bool(fault.params.get("after_accept"))


async def _endless(
    request: web.Request, out: _Writer, shape: Shape, fault: Fault
) -> web.StreamResponse:
    """The ``endless`` fault: keep-alives only, until the client leaves (or ``limit`` s)."""
    every = float(fault.params.get("every", 0.01))
    deadline = time.monotonic() + float(fault.params.get("limit", 30.0))
    while time.monotonic() < deadline:
        transport = request.transport
        if out.turn.disconnected or transport is None or transport.is_closing():
            out.turn.disconnected = True
            break
        await _keepalive(out, shape)
        await asyncio.sleep(every)
    if request.transport is not None:
        request.transport.close()
    return out.response


async def _cut(request: web.Request, out: _Writer) -> web.StreamResponse:
    """The ``drop`` fault: half an event, then the connection closes without the stream's end."""
    out.turn.dropped = True
    await out.raw(b'data: {"content": {"parts": [{"te')
    if request.transport is not None:
        request.transport.close()
    return out.response


async def media(request: web.Request) -> web.StreamResponse:
    """A generated clip or music bed (public, like a CDN URL: no token needed)."""
    name = request.match_info["name"]
    path = media_dir(state_of(request)) / name
    if not _MEDIA_NAME.fullmatch(name) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def setup(app: web.Application) -> None:
    """Add the chat and media routes; the chat route carries out its own ``drop`` fault."""
    app[STATE_KEY].streaming_routes.add("chat")
    app.router.add_post("/run_sse", run_sse, name="chat")
    app.router.add_get("/media/{name}", media, name="media")
