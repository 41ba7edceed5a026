"""nemo.chat against Agent Development Kit event streams: both modes, errors, silence, 404.

The streams are served by a scripted server (``scripted.py``) in the shapes google-adk
2.x's own FastAPI server sends (API.md, "What an Agent Development Kit server sends").
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nemo_sdk import (
    ActionsEvent,
    ChatEvent,
    ChatSettings,
    ChatTurnError,
    ErrorEvent,
    EventHandler,
    NotFoundError,
    SessionNotFoundError,
    StreamInterrupted,
    TextDelta,
    Thought,
    Timeouts,
    ToolCall,
    ToolResult,
    UnknownEvent,
)

from .scripted import (
    FIRST,
    LAST,
    REPLY,
    SESSION,
    Script,
    adk_event,
    answer,
    call,
    scripted,
    sse,
    tool_turn,
)


class Seen(EventHandler):
    def __init__(self) -> None:
        self.calls: list[ToolCall] = []
        self.texts: list[str] = []
        self.events: list[ChatEvent] = []
        self.ended = 0

    async def on_event(self, event: ChatEvent) -> None:
        self.events.append(event)

    async def on_tool_call(self, event: ToolCall) -> None:
        self.calls.append(event)

    async def on_reply_text(self, text: str) -> None:
        self.texts.append(text)

    async def on_end(self, reply: Any) -> None:
        self.ended += 1


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_tool_turn_reports_each_call_once_and_each_text_once(streaming: bool) -> None:
    script = Script(steps=[sse(*tool_turn(streaming))])
    async with scripted(script) as (nemo, _):
        seen = Seen()
        async with nemo.chat.stream(SESSION, "make a cat video", handler=seen) as events:
            received = [event async for event in events]
        reply = events.reply
    calls = [e for e in received if isinstance(e, ToolCall)]
    assert len(calls) == 1 and calls[0].id == "adk-1"  # the final's call, once
    assert calls[0].partial is (False if streaming else None)
    assert (calls[0].event_id, calls[0].invocation_id) == ("ev-1", "e-1")
    assert reply.tool_calls == calls == seen.calls
    assert [r.id for r in reply.tool_results] == ["adk-1"]
    assert reply.text == REPLY
    assert "".join(seen.texts) == REPLY
    assert reply.events == received == seen.events
    assert seen.ended == 1


@pytest.mark.parametrize("streaming", [False, True])
async def test_text_deltas_yield_new_text_once(streaming: bool) -> None:
    async with (
        scripted(Script(steps=[sse(*tool_turn(streaming))])) as (nemo, _),
        nemo.chat.stream(SESSION, "make a cat video") as events,
    ):
        pieces = [text async for text in events.text_deltas()]
    if streaming:
        # Trailing white space waits for the text after it.
        assert pieces == ["Sure —", " generating it now.", "\n\nDone!", " Your video is ready."]
    else:
        assert pieces == [FIRST, f"\n\n{LAST}"]
    assert "".join(pieces) == events.reply.text == REPLY


async def test_the_streaming_option_asks_for_streaming() -> None:
    async with scripted(Script(steps=[sse(*tool_turn(True))])) as (nemo, script):
        await nemo.chat.send(SESSION, "one")
        await nemo.chat.send(SESSION, "two", streaming=True)
        async with nemo.chat.stream(SESSION, "three", streaming=True) as events:
            async for _ in events:
                pass
    assert ["streaming" in body for body in script.bodies] == [False, True, True]
    assert script.bodies[1]["streaming"] is True


async def test_a_partial_call_no_final_confirmed_is_reported_once_at_the_end() -> None:
    steps = [
        sse(
            adk_event("ev-1", [{"text": "Let me "}], partial=True),
            adk_event("ev-1", [call("adk-p")], partial=True),
        )
    ]
    async with scripted(Script(steps=steps)) as (nemo, _):
        seen = Seen()
        reply = await nemo.chat.send(SESSION, "go", handler=seen)
    assert [c.id for c in reply.tool_calls] == ["adk-p"] == [c.id for c in seen.calls]
    assert reply.text == "Let me"


async def test_a_partial_call_answered_before_any_final_comes_before_its_result() -> None:
    steps = [
        sse(
            adk_event("ev-1", [call("adk-1")], partial=True),
            adk_event("ev-2", [answer("adk-1")], role="user"),
        )
    ]
    async with scripted(Script(steps=steps)) as (nemo, _):
        reply = await nemo.chat.send(SESSION, "go")
    assert [type(e) for e in reply.events] == [ToolCall, ToolResult]


async def test_thoughts_and_part_less_events_are_typed_and_not_reply_text() -> None:
    steps = [
        sse(
            adk_event("ev-1", [{"text": "The user wants", "thought": True}], partial=True),
            adk_event("ev-1", [{"text": "Hello"}], partial=True),
            adk_event("ev-1", [{"text": "The user wants", "thought": True}, {"text": "Hello"}]),
            adk_event(
                "ev-2", None, actions={**adk_event("x", None)["actions"], "stateDelta": {"k": 1}}
            ),
            {"content": {"role": "model"}, "id": "ev-3", "author": "nemo_agent"},
        )
    ]
    async with scripted(Script(steps=steps)) as (nemo, _):
        reply = await nemo.chat.send(SESSION, "hi")
    kinds = [type(e) for e in reply.events]
    assert kinds == [Thought, TextDelta, Thought, TextDelta, ActionsEvent, ActionsEvent]
    assert not any(isinstance(e, UnknownEvent) for e in reply.events)
    actions = [e for e in reply.events if isinstance(e, ActionsEvent)]
    assert actions[0].actions["stateDelta"] == {"k": 1} and actions[1].actions == {}
    assert reply.text == "Hello"


ERROR_EVENT = adk_event(
    "ev-2", None, errorCode="MODEL_RETURNED_NO_CONTENT", errorMessage="The model returned nothing."
)
ERROR_LINE = {
    "error": "ValueError: the tool broke",
    "error_details": {
        "error_type": "ValueError",
        "error_message": "the tool broke",
        "timestamp": 1795985434.0,
    },
}


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        (ERROR_EVENT, "MODEL_RETURNED_NO_CONTENT", "The model returned nothing."),
        (ERROR_LINE, "ValueError", "the tool broke"),
    ],
)
async def test_a_failed_turn_raises_chat_turn_error_with_what_came_before(
    failure: dict[str, Any], code: str, message: str
) -> None:
    steps = [sse(adk_event("ev-1", [{"text": "Working on it."}]), failure)]
    async with scripted(Script(steps=steps)) as (nemo, script):
        seen = Seen()
        with pytest.raises(ChatTurnError) as info:
            await nemo.chat.send(SESSION, "go", handler=seen)
        assert (info.value.code, info.value.message) == (code, message)
        assert code in str(info.value) and message in str(info.value)
        reply = info.value.reply
        assert reply.text == "Working on it."
        assert isinstance(reply.events[-1], ErrorEvent)
        assert not reply.interrupted
        assert seen.ended == 0  # no reply to end with
        assert isinstance(seen.events[-1], ErrorEvent)

        # Iterating the stream: the events, then the error.
        async with nemo.chat.stream(SESSION, "again") as events:
            received: list[ChatEvent] = []
            with pytest.raises(ChatTurnError):
                async for event in events:
                    received.append(event)
        assert [type(e) for e in received] == [TextDelta, ErrorEvent]
        assert events.reply.text == "Working on it."
    # Sent once each, and the state read before and after: nothing watched, nothing re-sent.
    assert len(script.bodies) == 2
    assert script.state_reads == 4


async def test_an_error_then_a_drop_is_still_the_servers_error() -> None:
    # The stream ends without a clean close after the error event: not a recovery case.
    steps = [sse(ERROR_EVENT), b"data: {trunc"]
    async with scripted(Script(steps=steps)) as (nemo, script):
        with pytest.raises(ChatTurnError):
            await nemo.chat.send(SESSION, "go")
    assert len(script.bodies) == 1


async def test_run_sse_404_for_an_unknown_session_is_session_not_found() -> None:
    # FastAPI's shape, no envelope, before any stream. Failed before the fix: NotFoundError.
    detail = {"detail": f"Session not found: {SESSION}"}
    async with scripted(Script(status=404, error_body=detail)) as (nemo, script):
        with pytest.raises(SessionNotFoundError, match="Session not found"):
            await nemo.chat.send(SESSION, "hi")
        assert len(script.bodies) == 1
        other = Script(status=404, error_body={"detail": "Not Found"})
    async with scripted(other) as (nemo, _):
        with pytest.raises(NotFoundError) as info:
            await nemo.chat.send(SESSION, "hi")
        assert not isinstance(info.value, SessionNotFoundError)


async def test_silence_longer_than_the_read_timeout_is_normal() -> None:
    # ADK sends no keep-alives while a tool runs. The read timeout is 0.2 s and the
    # tool is silent 0.6 s: before the fix, the socket's idle limit broke the turn.
    events = tool_turn(False)
    steps = [sse(events[0]), 0.6, sse(*events[1:])]
    chat = ChatSettings(heartbeat_timeout=5.0, drop_wait=0.01, poll_interval=0.01)
    timeouts = Timeouts(connect=2.0, read=0.2, total=1.0)
    async with scripted(Script(steps=steps), timeouts=timeouts, chat_settings=chat) as (nemo, _):
        reply = await nemo.chat.send(SESSION, "make a cat video")
    assert reply.text == REPLY and not reply.interrupted


async def test_silence_past_heartbeat_timeout_is_recovered_not_resent() -> None:
    steps = [sse(tool_turn(False)[0]), 1.0]
    chat = ChatSettings(
        heartbeat_timeout=0.2, drop_wait=0.01, poll_interval=0.01, unchanged_reads=2
    )
    async with scripted(Script(steps=steps), chat_settings=chat) as (nemo, script):
        with pytest.raises(
            StreamInterrupted, match=r"only heartbeats, or nothing, came for 0\.2 s"
        ):
            await nemo.chat.send(SESSION, "make a cat video")
    assert len(script.bodies) == 1


async def test_a_cancel_as_a_read_completes_is_always_a_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: ``asyncio.wait_for`` (3.10/3.11) returned the read's data instead of
    raising when the cancel came as the read completed. Failed before the fix: the
    consumer went on iterating (every repetition)."""
    from nemo_sdk._http import Response

    consumer: asyncio.Task[Any] | None = None
    cancel_on_read = False
    real_read = Response.read_some

    async def read_then_cancel(self: Response) -> bytes:
        chunk: bytes = await real_read(self)
        if cancel_on_read and chunk and consumer is not None:
            consumer.cancel()  # the cancel arrives as the read completes
        return chunk

    monkeypatch.setattr(Response, "read_some", read_then_cancel)
    steps = [sse(tool_turn(False)[0]), 0.05, sse(*tool_turn(False)[1:])]
    async with scripted(Script(steps=steps)) as (nemo, _):
        for _ in range(10):
            got: list[ChatEvent] = []

            async def consume(got: list[ChatEvent] = got) -> None:
                nonlocal cancel_on_read
                async with nemo.chat.stream(SESSION, "go") as events:
                    async for event in events:
                        got.append(event)
                        cancel_on_read = True  # after the first event, cancel on the next read

            cancel_on_read = False
            consumer = asyncio.create_task(consume())
            with pytest.raises(asyncio.CancelledError):
                await consumer
            assert consumer.cancelled()
            assert len(got) == 2  # the first event's two parts, then nothing more
