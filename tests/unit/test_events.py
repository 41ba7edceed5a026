"""Typed chat events from both wire shapes, and handler dispatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk.errors import EventParseError, HandlerError
from nemo_sdk.events import (
    ActionsEvent,
    ChatEvent,
    ErrorEvent,
    EventHandler,
    Heartbeat,
    TextDelta,
    Thought,
    ToolCall,
    ToolResult,
    UnknownEvent,
    dispatch,
    dispatch_end,
    dispatch_still_working,
    parse_data,
    parse_event,
)
from nemo_sdk.models.chat import ChatReply
from nemo_sdk.sse import ServerSentEvent, SSEDecoder


def adk(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "content": {"parts": list(parts), "role": "model"},
        "author": "nemo_agent",
        "invocationId": "e-1",
        "id": "ev-1",
        "timestamp": 1732467890.5,
        "actions": {"stateDelta": {}},
        **extra,
    }


def parse(obj: Any) -> list[ChatEvent]:
    return parse_event(ServerSentEvent(json.dumps(obj)))


# --- ADK shape -----------------------------------------------------------------


def test_adk_text_part() -> None:
    obj = adk({"text": "Hello"}, partial=True)
    (event,) = parse(obj)
    assert event == TextDelta("Hello", True, "nemo_agent", "e-1", "ev-1")
    assert isinstance(event, TextDelta)
    assert event.raw == obj


def test_adk_final_text_has_no_partial_flag() -> None:
    (event,) = parse(adk({"text": "Hello world"}))
    assert isinstance(event, TextDelta)
    assert event.partial is None


def test_adk_function_call_part() -> None:
    call = {"id": "call-1", "name": "generate_video", "args": {"prompt": "a cat"}}
    (event,) = parse(adk({"functionCall": call}))
    assert event == ToolCall(
        "call-1",
        "generate_video",
        {"prompt": "a cat"},
        "nemo_agent",
        invocation_id="e-1",
        event_id="ev-1",
    )
    assert isinstance(event, ToolCall)
    assert event.partial is None


def test_adk_partial_function_call_keeps_the_flag_and_ids() -> None:
    (event,) = parse(adk({"functionCall": {"name": "trim", "args": {}}}, partial=True))
    assert event == ToolCall(None, "trim", {}, "nemo_agent", True, "e-1", "ev-1")


def test_adk_function_call_without_args() -> None:
    (event,) = parse(adk({"functionCall": {"name": "list_clips"}}))
    assert event == ToolCall(None, "list_clips", {}, "nemo_agent", None, "e-1", "ev-1")


def test_adk_function_response_part() -> None:
    response = {"id": "call-1", "name": "generate_video", "response": {"status": "ok"}}
    (event,) = parse(adk({"functionResponse": response}))
    assert event == ToolResult(
        "call-1", "generate_video", {"status": "ok"}, "nemo_agent", "e-1", "ev-1"
    )


def test_adk_multi_part_event_yields_one_event_per_part_in_order() -> None:
    obj = adk(
        {"text": "Let me trim that."},
        {"functionCall": {"id": "c1", "name": "trim", "args": {"at": 3}}},
        {"functionResponse": {"id": "c1", "name": "trim", "response": {"ok": True}}},
        {"text": "Done."},
    )
    events = parse(obj)
    assert [type(e) for e in events] == [TextDelta, ToolCall, ToolResult, TextDelta]
    assert [getattr(e, "text", None) for e in events] == ["Let me trim that.", None, None, "Done."]
    assert all(getattr(e, "raw", None) is events[0].raw for e in events)


def test_adk_thought_parts_are_thoughts_and_unknown_parts_kept_in_place() -> None:
    thought = {"text": "thinking about it", "thought": True}
    inline = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    events = parse(adk(thought, {"text": "Answer"}, inline, partial=True))
    assert [type(e) for e in events] == [Thought, TextDelta, UnknownEvent]
    assert events[0] == Thought("thinking about it", True, "nemo_agent", "e-1", "ev-1")
    assert isinstance(events[2], UnknownEvent)
    assert events[2].raw == inline
    assert json.loads(events[2].data)["content"]["parts"][2] == inline
    # A signature-only thought part has no text.
    (bare,) = parse(adk({"thought": True, "thoughtSignature": "c2ln"}))
    assert bare == Thought("", None, "nemo_agent", "e-1", "ev-1")


def test_adk_event_without_parts_is_an_actions_event() -> None:
    state = {"stateDelta": {"x": 1}, "artifactDelta": {}, "skipSummarization": True}
    (event,) = parse({"actions": state, "author": "nemo_agent", "id": "ev-9"})
    assert event == ActionsEvent(state, "nemo_agent", None, "ev-9")
    (event,) = parse(adk())
    assert event == ActionsEvent({"stateDelta": {}}, "nemo_agent", "e-1", "ev-1")
    obj = {"content": {"role": "model"}}
    (event,) = parse(obj)
    assert event == ActionsEvent({}, None, None, None)
    assert isinstance(event, ActionsEvent)
    assert event.raw == obj


def test_adk_error_event() -> None:
    obj = {
        "errorCode": "MODEL_RETURNED_NO_CONTENT",
        "errorMessage": "the model said nothing",
        "invocationId": "e-1",
        "author": "nemo_agent",
        "actions": {"stateDelta": {}},
        "id": "ev-3",
    }
    (event,) = parse(obj)
    assert event == ErrorEvent(
        "MODEL_RETURNED_NO_CONTENT", "the model said nothing", None, "nemo_agent", "e-1", "ev-3"
    )
    # With parts, the error comes after them; a code alone is enough.
    events = parse(adk({"text": "Sorry"}, errorCode="ValueError"))
    assert [type(e) for e in events] == [TextDelta, ErrorEvent]
    assert events[1] == ErrorEvent("ValueError", None, None, "nemo_agent", "e-1", "ev-1")


def test_adk_error_line() -> None:
    details = {"error_type": "ValueError", "error_message": "bad: input", "timestamp": 1.5}
    (event,) = parse({"error": "ValueError: bad: input", "error_details": details})
    assert event == ErrorEvent("ValueError", "bad: input", details)
    (event,) = parse({"error": "RuntimeError: the tool failed"})
    assert event == ErrorEvent("RuntimeError", "the tool failed")
    (event,) = parse({"error": "something went wrong"})
    assert event == ErrorEvent(None, "something went wrong")
    (event,) = parse({"error": {"code": 500, "message": "boom"}})
    assert event == ErrorEvent("500", "boom")


# --- flat shape ----------------------------------------------------------------


def test_flat_text() -> None:
    obj = {"type": "text", "content": "Hi"}
    (event,) = parse(obj)
    assert event == TextDelta("Hi")
    assert isinstance(event, TextDelta)
    assert event.raw == obj


def test_flat_tool_call() -> None:
    (event,) = parse({"type": "tool_call", "name": "export", "args": {"format": "mp4"}})
    assert event == ToolCall(None, "export", {"format": "mp4"})


def test_flat_tool_result() -> None:
    (event,) = parse({"type": "tool_result", "name": "export", "result": {"url": "u"}})
    assert event == ToolResult(None, "export", {"url": "u"})


def test_flat_unknown_type_or_bad_field_is_unknown() -> None:
    for obj in ({"type": "progress", "pct": 50}, {"type": "text", "content": 5}, {"type": None}):
        (event,) = parse(obj)
        assert event == UnknownEvent(json.dumps(obj), obj, None)


# --- heartbeats ----------------------------------------------------------------


def test_flat_heartbeat() -> None:
    (event,) = parse({"type": "heartbeat"})
    assert isinstance(event, Heartbeat)
    assert event.raw == {"type": "heartbeat"}


@pytest.mark.parametrize("data", ["", " ", "\n"])
def test_empty_data_is_heartbeat(data: str) -> None:
    (event,) = parse_event(ServerSentEvent(data))
    assert isinstance(event, Heartbeat)
    assert event.raw is None


def test_comment_keepalive_is_observable_from_decoder() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b": keep-alive\n\ndata:\n\n")
    assert decoder.keepalives == 1
    assert [type(e) for sse in events for e in parse_event(sse)] == [Heartbeat]


# --- malformed and unknown -------------------------------------------------------


@pytest.mark.parametrize("data", ["{not json", '{"a": 1', "[DONE]", "nan nan"])
def test_malformed_json_is_unknown_with_error(data: str) -> None:
    (event,) = parse_event(ServerSentEvent(data))
    assert isinstance(event, UnknownEvent)
    assert event.data == data
    assert event.raw is None
    assert event.error


def test_malformed_json_strict_raises() -> None:
    with pytest.raises(EventParseError) as info:
        parse_event(ServerSentEvent("{oops"), strict=True)
    assert info.value.data == "{oops"
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_strict_does_not_reject_valid_unknown_shapes() -> None:
    (event,) = parse_event(ServerSentEvent("[1, 2]"), strict=True)
    assert event == UnknownEvent("[1, 2]", [1, 2], None)


@pytest.mark.parametrize("obj", [[1, 2], "text", 3, None, {"foo": "bar"}])
def test_valid_json_of_neither_shape_is_preserved(obj: Any) -> None:
    (event,) = parse(obj)
    assert event == UnknownEvent(json.dumps(obj), obj, None)


def test_parse_data_accepts_bytes() -> None:
    data = json.dumps(adk({"text": "é"})).encode()
    assert parse_data(data) == [TextDelta("é", None, "nemo_agent", "e-1", "ev-1")]
    (bad,) = parse_data(b"\xff{")
    assert isinstance(bad, UnknownEvent)
    assert bad.data == "\ufffd{"
    assert bad.error


# --- handlers ----------------------------------------------------------------------


class Recorder(EventHandler):
    def __init__(self, name: str, log: list[tuple[str, str, Any]]) -> None:
        self.name = name
        self.log = log

    async def on_event(self, event: ChatEvent) -> None:
        self.log.append((self.name, "on_event", event))

    async def on_text(self, event: TextDelta) -> None:
        self.log.append((self.name, "on_text", event))

    async def on_tool_call(self, event: ToolCall) -> None:
        self.log.append((self.name, "on_tool_call", event))

    async def on_tool_result(self, event: ToolResult) -> None:
        self.log.append((self.name, "on_tool_result", event))

    async def on_heartbeat(self, event: Heartbeat) -> None:
        self.log.append((self.name, "on_heartbeat", event))

    async def on_still_working(self, elapsed_seconds: float) -> None:
        self.log.append((self.name, "on_still_working", elapsed_seconds))

    async def on_end(self, reply: ChatReply) -> None:
        self.log.append((self.name, "on_end", reply))


class TextOnly(EventHandler):
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def on_text(self, event: TextDelta) -> None:
        self.texts.append(event.text)


async def test_handlers_see_every_event_in_order() -> None:
    log: list[tuple[str, str, Any]] = []
    first, second, text_only = Recorder("a", log), Recorder("b", log), TextOnly()
    events: list[ChatEvent] = [
        TextDelta("hi", True),
        ToolCall("c", "trim", {}),
        ToolResult("c", "trim", 1),
        Heartbeat(),
        UnknownEvent("x"),
    ]
    handlers = [first, text_only, second]
    for event in events:
        await dispatch(handlers, event)
    await dispatch_still_working(handlers, 120.0)
    reply = ChatReply(session_id="s", text="hi")
    await dispatch_end(handlers, reply)

    hooks = ["on_text", "on_tool_call", "on_tool_result", "on_heartbeat", None]
    expected: list[tuple[str, str, Any]] = []
    for event, hook in zip(events, hooks, strict=True):
        for name in ("a", "b"):
            expected.append((name, "on_event", event))
            if hook:
                expected.append((name, hook, event))
    expected += [("a", "on_still_working", 120.0), ("b", "on_still_working", 120.0)]
    expected += [("a", "on_end", reply), ("b", "on_end", reply)]
    # For each event: every handler in list order, on_event before the event's own hook.
    assert log == expected
    assert text_only.texts == ["hi"]


async def test_base_handler_does_nothing() -> None:
    await dispatch([EventHandler()], TextDelta("x"))
    await dispatch_still_working([EventHandler()], 1.0)
    await dispatch_end([EventHandler()], ChatReply(session_id="s"))


class Exploding(EventHandler):
    async def on_tool_call(self, event: ToolCall) -> None:
        raise RuntimeError("boom")


class ExplodingAtEnd(EventHandler):
    async def on_end(self, reply: ChatReply) -> None:
        raise KeyError("end")


async def test_handler_error_names_handler_and_hook() -> None:
    log: list[tuple[str, str, Any]] = []
    after = Recorder("after", log)
    with pytest.raises(HandlerError) as info:
        await dispatch([Exploding(), after], ToolCall("c", "trim", {}))
    assert info.value.handler == "Exploding"
    assert info.value.hook == "on_tool_call"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "Exploding.on_tool_call" in str(info.value)
    assert log == []  # handlers after the failing one are not called

    with pytest.raises(HandlerError) as info:
        await dispatch_end([ExplodingAtEnd()], ChatReply(session_id="s"))
    assert (info.value.handler, info.value.hook) == ("ExplodingAtEnd", "on_end")
    assert isinstance(info.value.__cause__, KeyError)


async def test_handler_overriding_a_hook_in_a_subclass_is_called() -> None:
    class Sub(TextOnly):
        pass

    handler = Sub()
    await dispatch([handler], TextDelta("y"))
    assert handler.texts == ["y"]


# --- ChatReply -------------------------------------------------------------------


def test_chat_reply_defaults() -> None:
    reply = ChatReply(session_id="s")
    assert reply.text == ""
    assert (reply.events, reply.tool_calls, reply.tool_results) == ([], [], [])
    assert reply.suggested_actions == []
    assert (reply.draft_changed, reply.summary, reply.interrupted) == (False, None, False)


def test_hooks_left_as_base_are_not_called() -> None:
    from nemo_sdk._chat.handlers import _hooks

    assert _hooks(TextOnly, TextDelta) == ("on_text",)
    assert _hooks(TextOnly, ToolCall) == ()
    assert _hooks(Recorder, UnknownEvent) == ("on_event",)
    assert _hooks(EventHandler, "on_end") == ()


def test_surrounding_whitespace_and_trailing_garbage() -> None:
    (event,) = parse_data(' {"type": "heartbeat"}\n')
    assert isinstance(event, Heartbeat)
    (bad,) = parse_data('{"type": "heartbeat"} {}')
    assert isinstance(bad, UnknownEvent)
    assert bad.error is not None
    assert "Extra data" in bad.error


def test_absurdly_nested_json_is_unknown_not_a_crash() -> None:
    data = "[" * 100_000 + "]" * 100_000
    (event,) = parse_data(data)
    assert isinstance(event, UnknownEvent)
    assert event.error
    with pytest.raises(EventParseError):
        parse_data(data, strict=True)


def test_chat_event_union_works_with_isinstance() -> None:
    assert isinstance(Heartbeat(), ChatEvent)
    for event in (Thought("t"), ErrorEvent("E"), ActionsEvent()):
        assert isinstance(event, ChatEvent)
    assert not isinstance(ServerSentEvent(), ChatEvent)


# --- streams captured from google-adk 2.13's own server ---------------------------------

CAPTURES = sorted((Path(__file__).parent / "fixtures" / "adk").glob("*.sse"))


def captured(name: str) -> list[ChatEvent]:
    decoder = SSEDecoder()
    body = (Path(__file__).parent / "fixtures" / "adk" / name).read_bytes()
    return [event for sse in decoder.feed(body) for event in parse_event(sse, strict=True)]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_captured_event_is_typed(path: Path) -> None:
    events = captured(path.name)
    assert events
    assert not [e for e in events if isinstance(e, UnknownEvent)]
    for event in events:
        wire_id = getattr(event, "raw", {}).get("id")
        if wire_id:
            assert getattr(event, "event_id", None) == wire_id


def test_captured_streamed_turn_shares_one_id_between_pieces_and_final() -> None:
    events = captured("text_and_call.streaming.sse")
    first = getattr(events[0], "event_id", None)
    first_turn = [e for e in events if isinstance(e, (TextDelta, ToolCall)) and e.event_id == first]
    assert [(type(e), e.partial) for e in first_turn] == [
        (TextDelta, True),
        (TextDelta, True),
        (ToolCall, True),
        (TextDelta, False),
        (ToolCall, False),
    ]
    plain = captured("text_and_call.plain.sse")
    assert [(type(e), getattr(e, "partial", 0)) for e in plain[:2]] == [
        (TextDelta, None),
        (ToolCall, None),
    ]


def test_captured_thoughts_actions_and_errors() -> None:
    thought = captured("thought.plain.sse")
    assert [type(e) for e in thought] == [Thought, TextDelta]
    assert isinstance(thought[0], Thought) and thought[0].text.startswith("Planning")
    actions = [e for e in captured("actions.plain.sse") if isinstance(e, ActionsEvent)]
    assert len(actions) == 1
    assert actions[0].actions["artifactDelta"] == {"note.txt": 0}
    assert actions[0].actions["skipSummarization"] is True
    role_only = captured("role_only.streaming.sse")
    assert [type(e) for e in role_only] == [TextDelta, ActionsEvent, TextDelta]
    raised = captured("model_raises.plain.sse")
    assert all(isinstance(e, ErrorEvent) for e in raised)
    assert [
        (e.code, e.message, e.details is not None) for e in raised if isinstance(e, ErrorEvent)
    ] == [
        ("RuntimeError", "model backend unavailable", False),
        ("RuntimeError", "model backend unavailable", True),
    ]
    no_content = captured("no_content.plain.sse")
    assert [type(e) for e in no_content] == [Thought, ErrorEvent]
    assert isinstance(no_content[1], ErrorEvent)
    assert no_content[1].code == "MODEL_RETURNED_NO_CONTENT"


@pytest.mark.parametrize(
    "obj",
    [
        adk({"text": "Hi"}, partial=True),
        adk({"text": "Hi"}),
        adk({"text": "hmm", "thought": True}),
        adk({"text": "Sorry"}, errorCode="SAFETY"),
        adk({"text": "Sorry"}, errorMessage="blocked"),
        {"content": {"parts": [{"text": "bare"}]}},
    ],
)
def test_the_one_text_part_shortcut_agrees_with_the_general_parser(obj: dict[str, Any]) -> None:
    from nemo_sdk._chat.parser import _parse_adk

    data = json.dumps(obj)
    general = _parse_adk(obj, obj["content"]["parts"], data)
    assert parse_data(data) == general
    assert [type(e) for e in parse_data(data)] == [type(e) for e in general]
