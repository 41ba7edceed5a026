"""nemo.chat against the emulator: wire shapes, keep-alives, handlers, early exit."""

from __future__ import annotations

import asyncio

import pytest

from nemo_sdk import (
    ChatEvent,
    EventHandler,
    HandlerError,
    Heartbeat,
    InvalidArgument,
    TextDelta,
    ToolCall,
    ToolResult,
)
from nemo_sdk.emulator.routes_chat import turns
from nemo_sdk.resources.chat import request_body

from .conftest import Rig


def test_request_body_is_exactly_the_documented_one() -> None:
    assert request_body("ses_1", "add BGM") == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": "ses_1",
        "new_message": {"parts": [{"text": "add BGM"}]},
    }


@pytest.mark.parametrize("shape", ["adk", "flat"])
async def test_each_wire_shape_end_to_end(rig: Rig, shape: str) -> None:
    async with rig(event_shape=shape) as (emu, nemo, sid):
        async with nemo.chat.stream(sid, "add lo-fi BGM at 35%") as events:
            received = [event async for event in events]
        reply = events.reply
        request = next(r for r in emu.requests if r.route == "chat")
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Content-Type"].startswith("application/json")
    call = next(e for e in received if isinstance(e, ToolCall))
    result = next(e for e in received if isinstance(e, ToolResult))
    assert call.name == result.name == "add_bgm"
    assert call.id is not None and call.id == result.id
    assert call.args == {"name": "Lo-fi", "volume": 0.35}
    texts = [e for e in received if isinstance(e, TextDelta)]
    if shape == "adk":
        assert all(e.author == "nemo_agent" for e in texts)
        # ADK without "streaming" in the body (the documented one): one event per turn.
        assert [e.partial for e in texts] == [None]
    else:
        assert all(e.partial is None for e in texts)
    # Counted once, whatever the shape.
    assert reply.text == "Added BGM 'Lo-fi' at 35% volume."
    assert reply.tool_calls == [call] and reply.tool_results == [result]
    assert reply.events == received
    assert reply.draft_changed
    assert reply.summary == "Added BGM track: Lo-fi (0-1s, 35%); Duration: 1s"
    assert not reply.interrupted


@pytest.mark.parametrize("shape", ["adk", "flat"])
async def test_each_keepalive_form_is_a_heartbeat(rig: Rig, shape: str) -> None:
    # Slow enough work for several keep-alive rounds: the shape's heartbeat + a comment each.
    async with rig(event_shape=shape, think_seconds=0.12, heartbeat_every=0.03) as (_, nemo, sid):
        reply = await nemo.chat.send(sid, "make it 9:16")
    heartbeats = [e for e in reply.events if isinstance(e, Heartbeat)]
    flat_beats = [h for h in heartbeats if h.raw == {"type": "heartbeat"}]
    bare = [h for h in heartbeats if h.raw is None]  # comments; ADK's empty ``data:`` lines
    rounds = len(heartbeats) // 2
    assert rounds >= 3
    if shape == "flat":
        assert len(flat_beats) == len(bare) == rounds
    else:
        assert not flat_beats and len(bare) == 2 * rounds
    assert reply.text == "The canvas is now 9:16 (1080x1920)."


async def test_a_text_answer_says_the_agent_is_rule_based(rig: Rig) -> None:
    async with rig() as (_, nemo, sid):
        reply = await nemo.chat.send(sid, "what can you do?")
    assert "rule-based" in reply.text
    assert not reply.tool_calls and not reply.draft_changed and reply.summary is None


class Recorder(EventHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    async def on_event(self, event: ChatEvent) -> None:
        self.seen.append(("event", event))

    async def on_text(self, event: TextDelta) -> None:
        self.seen.append(("text", event))

    async def on_tool_call(self, event: ToolCall) -> None:
        self.seen.append(("tool_call", event))

    async def on_tool_result(self, event: ToolResult) -> None:
        self.seen.append(("tool_result", event))

    async def on_heartbeat(self, event: Heartbeat) -> None:
        self.seen.append(("heartbeat", event))

    async def on_end(self, reply: object) -> None:
        self.seen.append(("end", reply))


async def test_handler_subclasses_see_every_event_in_order(rig: Rig) -> None:
    first, second = Recorder(), Recorder()
    async with rig() as (_, nemo, sid):
        reply = await nemo.chat.send(
            sid, "add a title 'Hi' for 2 s", handler=first, handlers=[second]
        )
    hooks = {
        TextDelta: "text",
        ToolCall: "tool_call",
        ToolResult: "tool_result",
        Heartbeat: "heartbeat",
    }
    expected: list[tuple[str, object]] = []
    for event in reply.events:
        expected += [("event", event), (hooks[type(event)], event)]
    expected.append(("end", reply))
    assert first.seen == expected
    assert second.seen == expected
    assert [type(e) for e in reply.events if not isinstance(e, Heartbeat)][:2] == [
        ToolCall,
        ToolResult,
    ]


async def test_a_handler_that_raises_stops_the_turn_with_handler_error(rig: Rig) -> None:
    class Broken(EventHandler):
        async def on_tool_call(self, event: ToolCall) -> None:
            raise ValueError("boom")

    async with rig() as (_, nemo, sid):
        with pytest.raises(HandlerError) as info:
            await nemo.chat.send(sid, "add music", handler=Broken())
    assert info.value.handler == "Broken" and info.value.hook == "on_tool_call"
    assert isinstance(info.value.__cause__, ValueError)


async def test_leaving_early_closes_the_connection(rig: Rig) -> None:
    # The agent keeps working after the client left (as the service does); 0.6 s of it.
    async with rig(think_seconds=0.6, heartbeat_every=0.02) as (emu, nemo, sid):
        async with nemo.chat.stream(sid, "generate a forest") as events:
            async for event in events:
                assert isinstance(event, Heartbeat)
                break
        # The emulator notices at its next keep-alive write: the client is gone.
        for _ in range(100):
            if turns(emu)[0].disconnected:
                break
            await asyncio.sleep(0.02)
        assert turns(emu)[0].disconnected
        assert not turns(emu)[0].completed
        with pytest.raises(RuntimeError):
            _ = events.reply


@pytest.mark.parametrize(
    ("session_id", "text"),
    [("ses_1", ""), ("ses_1", "   "), ("../x", "hi"), ("ses 1", "hi"), ("", "hi")],
)
async def test_bad_arguments_are_refused_before_sending(
    rig: Rig, session_id: str, text: str
) -> None:
    async with rig() as (emu, nemo, _):
        with pytest.raises(InvalidArgument):
            await nemo.chat.send(session_id, text)
        assert emu.count("chat") == 0 and emu.count("state") == 0


async def test_a_stream_is_iterated_once(rig: Rig) -> None:
    async with rig() as (_, nemo, sid), nemo.chat.stream(sid, "hello") as events:
        _ = [e async for e in events]
        with pytest.raises(RuntimeError):
            aiter(events)
