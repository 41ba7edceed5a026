"""``chat.stream`` and ``chat.send`` against google-adk's own server, in both modes.

Every numbered case of issue 12: (1) streamed partials and calls reported once,
(2) failed turns inside a 200 stream, (3) events without parts and thoughts,
(4) a silent tool longer than the read-idle timeout, (5) an unknown session,
(6) a hang-up mid-tool. ``plain`` sends the documented body (no ``"streaming"``),
``streaming`` asks for ``"streaming": true``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

import nemo_sdk
from nemo_sdk import EventHandler, SessionNotFoundError, ToolCall, UnknownEvent
from tests.adk.conftest import READ_IDLE, Rig

# One google-adk server (the session-scoped adk_url) for the tier: one xdist worker runs it.
pytestmark = [pytest.mark.adk, pytest.mark.slow, pytest.mark.xdist_group("adk")]

MODES = {"plain": False, "streaming": True}
DONE = "All done: your edit is in."
SILENCE = READ_IDLE * 2.5  # the silent tool outlasts the read-idle timeout


@dataclass
class Case:
    message: str
    texts: list[str] = field(default_factory=list)  # each model turn's text, in order
    calls: list[str] = field(default_factory=list)  # tool names, each reported once
    error: tuple[str, str] | None = None  # ChatTurnError's (code, message)


CASES: dict[str, Case] = {
    "text": Case("case:text", ["Hello! I can make videos."]),
    "text_and_call": Case(
        "case:text_and_call", ["Sure, generating it now.", DONE], ["generate_video"]
    ),
    "tool_then_text": Case("case:tool_then_text", [DONE], ["add_bgm"]),
    "two_calls": Case("case:two_calls", [DONE], ["generate_video", "add_bgm"]),
    "silent_tool": Case(f"case:silent_tool seconds={SILENCE}", [DONE], ["render_preview"]),
    "thought": Case("case:thought", ["Here is the plan."]),
    "actions": Case("case:actions", [], ["save_note"]),
    "role_only": Case("case:role_only", ["Done."]),
    "error_event": Case("case:error_event", error=("SAFETY", "blocked by the safety filter")),
    "no_content": Case("case:no_content", error=("MODEL_RETURNED_NO_CONTENT", "no actionable")),
    "model_raises": Case("case:model_raises", error=("RuntimeError", "model backend unavailable")),
    "raises_midway": Case("case:raises_midway", error=("RuntimeError", "model stream broke")),
}


class Recorder(EventHandler):
    """What the hooks saw."""

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []
        self.reply_text: list[str] = []

    async def on_tool_call(self, event: ToolCall) -> None:
        self.calls.append(event)

    async def on_reply_text(self, text: str) -> None:
        self.reply_text.append(text)


@dataclass
class Turn:
    reply: Any  # ChatReply, or the ChatTurnError's partial reply
    events: list[Any]
    hooks: Recorder
    error: Exception | None


def _kwargs(streaming: bool) -> dict[str, Any]:
    # Plain mode sends the documented body: no ``streaming`` argument at all.
    return {"streaming": True} if streaming else {}


async def _via_stream(rig: Rig, message: str, streaming: bool) -> Turn:
    hooks, events = Recorder(), []
    try:
        async with rig.nemo.chat.stream(
            rig.session_id, message, handler=hooks, **_kwargs(streaming)
        ) as stream:
            async for event in stream:
                events.append(event)
    except nemo_sdk.NemoError as exc:  # on entering (an HTTP error) or while iterating
        return Turn(getattr(exc, "reply", None), events, hooks, exc)
    return Turn(stream.reply, events, hooks, None)


async def _via_send(rig: Rig, message: str, streaming: bool) -> Turn:
    hooks = Recorder()
    try:
        reply = await rig.nemo.chat.send(
            rig.session_id, message, handler=hooks, **_kwargs(streaming)
        )
    except nemo_sdk.NemoError as exc:
        return Turn(getattr(exc, "reply", None), [], hooks, exc)
    return Turn(reply, list(reply.events), hooks, None)


VIA = {"stream": _via_stream, "send": _via_send}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _check_body(rig: Rig, streaming: bool) -> None:
    (body,) = rig.proxy.run_sse_bodies  # sent once, never again
    assert body.get("streaming", False) is streaming
    assert ("streaming" in body) is streaming  # plain mode: the documented body


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.error is None])
async def test_turn(adk: Rig, name: str, via: str, mode: str) -> None:
    """Each turn's text once, each tool call once, no unknown events, in both modes."""
    case, streaming = CASES[name], MODES[mode]
    turn = await VIA[via](adk, case.message, streaming)
    assert turn.error is None, repr(turn.error)
    _check_body(adk, streaming)
    reply = turn.reply
    for text in case.texts:
        assert reply.text.count(text) == 1, reply.text
    assert _squash(reply.text) == _squash("".join(case.texts))
    # Calls: once in the reply, once to the hook, once on the stream; ids unique.
    assert [c.name for c in reply.tool_calls] == case.calls
    assert len({c.id for c in reply.tool_calls}) == len(case.calls)
    assert [c.name for c in turn.hooks.calls] == case.calls
    assert [e.name for e in turn.events if isinstance(e, ToolCall)] == case.calls
    assert [r.name for r in reply.tool_results] == case.calls
    # New reply text, each piece once: together the reply's text.
    assert _squash("".join(turn.hooks.reply_text)) == _squash(reply.text)
    assert not [e for e in turn.events if isinstance(e, UnknownEvent)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.error is not None])
async def test_failed_turn(adk: Rig, name: str, via: str, mode: str) -> None:
    """A turn ADK reports as failed raises ChatTurnError (code, message, partial reply), once."""
    case, streaming = CASES[name], MODES[mode]
    assert case.error is not None
    turn = await VIA[via](adk, case.message, streaming)
    assert isinstance(turn.error, nemo_sdk.ChatTurnError), repr(turn.error)
    code, message = case.error
    assert turn.error.code == code
    assert message in turn.error.message
    assert isinstance(turn.error.reply, nemo_sdk.ChatReply)
    _check_body(adk, streaming)  # never re-sent
    if name == "raises_midway" and streaming:
        # What came before the failure is kept on the error.
        assert _squash("Starting now,") in _squash(turn.error.reply.text)


@pytest.mark.parametrize("mode", MODES)
async def test_thoughts_are_typed_and_not_reply_text(adk: Rig, mode: str) -> None:
    turn = await _via_stream(adk, "case:thought", MODES[mode])
    thoughts = [e for e in turn.events if isinstance(e, nemo_sdk.Thought)]
    final = [t.text for t in thoughts if not t.partial]
    assert final == ["Planning the shot list. Then the music."]
    assert "Planning" not in turn.reply.text
    assert all(t.author == "nemo_agent" and t.invocation_id for t in thoughts)


@pytest.mark.parametrize("mode", MODES)
async def test_actions_only_event(adk: Rig, mode: str) -> None:
    turn = await _via_stream(adk, "case:actions", MODES[mode])
    actions = [e for e in turn.events if isinstance(e, nemo_sdk.ActionsEvent)]
    assert len(actions) == 1
    assert actions[0].actions["artifactDelta"] == {"note.txt": 0}
    assert actions[0].actions["stateDelta"] == {"note": "calm mood"}
    assert actions[0].actions["skipSummarization"] is True


@pytest.mark.parametrize("mode", MODES)
async def test_error_event_is_typed_on_the_stream(adk: Rig, mode: str) -> None:
    turn = await _via_stream(adk, "case:model_raises", MODES[mode])
    """Both of ADK's error forms reach the caller typed, before ChatTurnError ends the turn."""
    errors = [e for e in turn.events if isinstance(e, nemo_sdk.ErrorEvent)]
    assert isinstance(turn.error, nemo_sdk.ChatTurnError)
    event, line = errors  # the errorCode event, then ADK's {"error": ...} line
    assert (event.code, event.message) == ("RuntimeError", "model backend unavailable")
    assert event.author == "nemo_agent" and event.invocation_id
    assert line.code == "RuntimeError"
    assert line.details is not None and line.details["error_type"] == "RuntimeError"


@pytest.mark.parametrize("mode", MODES)
async def test_streaming_events_carry_adk_ids(adk: Rig, mode: str) -> None:
    """Partials and their final share ``event_id``; ``partial`` is None without streaming."""
    streaming = MODES[mode]
    turn = await _via_stream(adk, "case:text", streaming)
    deltas = [e for e in turn.events if isinstance(e, nemo_sdk.TextDelta)]
    assert len({d.event_id for d in deltas}) == 1
    assert all(d.invocation_id and d.invocation_id.startswith("e-") for d in deltas)
    if streaming:
        assert [d.partial for d in deltas] == [True, True, True, False]
    else:
        assert [d.partial for d in deltas] == [None]


@pytest.mark.parametrize("mode", MODES)
async def test_text_deltas(adk: Rig, mode: str) -> None:
    """``stream.text_deltas()`` yields the reply's new text, each piece once."""
    async with adk.nemo.chat.stream(
        adk.session_id, "case:text_and_call", **_kwargs(MODES[mode])
    ) as stream:
        pieces = [piece async for piece in stream.text_deltas()]
    assert all(isinstance(p, str) and p for p in pieces)
    assert _squash("".join(pieces)) == _squash("Sure, generating it now." + DONE)
    assert _squash("".join(pieces)) == _squash(stream.reply.text)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", VIA)
async def test_unknown_session(adk: Rig, via: str, mode: str) -> None:
    """ADK's HTTP 404 ``Session not found`` before any stream is SessionNotFoundError."""
    await adk.proxy.adk_session(adk.session_id, create=False)
    turn = await VIA[via](adk, "case:text", MODES[mode])
    assert isinstance(turn.error, SessionNotFoundError), repr(turn.error)
    assert len(adk.proxy.run_sse_bodies) == 1


async def test_hang_up_mid_tool(adk: Rig) -> None:
    """Leaving mid-tool: ADK finishes the tool, makes no further model call; nothing re-sent."""
    message = f"case:silent_tool seconds={SILENCE}"
    async with adk.nemo.chat.stream(adk.session_id, message) as stream:
        async for event in stream:
            if isinstance(event, ToolCall):
                break
    await asyncio.sleep(SILENCE + 0.5)
    events = await adk.proxy.adk_events(adk.session_id)
    texts = [
        p["text"]
        for e in events
        for p in (e.get("content") or {}).get("parts") or []
        if "text" in p and e.get("author") == "nemo_agent"
    ]
    assert DONE not in texts
    assert len(adk.proxy.run_sse_bodies) == 1
