"""The reply-text rules (pure): ADK pieces counted once, messages, trailing noise,
each tool call once, and the new text handed out once."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nemo_sdk._chat.text import ReplyBuilder
from nemo_sdk.events import ChatEvent, TextDelta, ToolCall, ToolResult, parse_data

from .scripted import REPLY, adk_event, answer, call, tool_turn


def build(*datas: str | dict[str, Any]) -> ReplyBuilder:
    builder, _, _ = run(*datas)
    return builder


def run(*datas: str | dict[str, Any]) -> tuple[ReplyBuilder, list[ChatEvent], list[str]]:
    """Feed wire events as ``nemo.chat`` does: the reported events and the new texts."""
    builder = ReplyBuilder()
    reported: list[ChatEvent] = []
    texts: list[str] = []
    for data in datas:
        for event in parse_data(data if isinstance(data, str) else json.dumps(data)):
            for out in builder.add(event):
                reported.append(out)
                if builder.new_text:
                    texts.append(builder.new_text)
    reported += builder.release()
    return builder, reported, texts


def adk_text(text: str, partial: bool | None = None) -> str:
    flag = "" if partial is None else f', "partial": {str(partial).lower()}'
    return f'{{"content": {{"parts": [{{"text": "{text}"}}]}}, "author": "nemo_agent"{flag}}}'


CALL = '{"content": {"parts": [{"functionCall": {"id": "c1", "name": "trim", "args": {}}}]}}'
OK = '{"content": {"parts": [{"functionResponse": {"id": "c1", "name": "trim", "response": {"status": "success"}}}]}}'  # noqa: E501
FAILED = '{"type": "tool_result", "name": "trim", "result": {"error": "no clip"}}'
NOISE = "I encountered a temporary issue. Try again."


def test_adk_pieces_and_their_final_count_once() -> None:
    b = build(adk_text("Hel", True), adk_text("lo", True), adk_text("Hello"))
    assert b.text() == "Hello"


def test_pieces_never_confirmed_are_kept() -> None:
    assert build(adk_text("Hel", True), adk_text("lo", True)).text() == "Hello"


def test_messages_are_joined_by_a_blank_line() -> None:
    b = build(adk_text("Working on it."), CALL, OK, adk_text("Done."))
    assert b.text() == "Working on it.\n\nDone."
    flat = build('{"type": "text", "content": "Do"}', '{"type": "text", "content": "ne."}')
    assert flat.text() == "Done."


def test_trailing_temporary_issue_after_success_is_cut() -> None:
    assert build(CALL, OK, adk_text("Done."), adk_text(NOISE)).text() == "Done."
    flat_noise = '{"type": "text", "content": " ' + NOISE + '"}'
    assert build(CALL, OK, '{"type": "text", "content": "Done."}', flat_noise).text() == "Done."


def test_temporary_issue_without_a_successful_tool_result_is_kept() -> None:
    assert build(adk_text(NOISE)).text() == NOISE
    assert build(FAILED, adk_text(NOISE)).text() == NOISE


# --- ADK 2.x: event ids ------------------------------------------------------------


def test_both_modes_give_the_same_text_calls_and_new_text() -> None:
    # Failed before: the streamed turn's text twice and its call twice.
    for streaming in (False, True):
        builder, reported, texts = run(*tool_turn(streaming))
        assert builder.text() == REPLY
        assert "".join(texts) == REPLY
        assert [c.id for c in builder.tool_calls] == ["adk-1"]
        assert [type(e) for e in reported].count(ToolCall) == 1


def test_a_final_replaces_its_pieces_by_id_even_after_other_events() -> None:
    builder, _, texts = run(
        adk_event("a", [{"text": "One "}], partial=True),
        adk_event("a", [call("p1")], partial=True),
        adk_event("a", [{"text": "two."}], partial=True),
        adk_event("a", [{"text": "One "}, call("f1"), {"text": "two."}], partial=False),
    )
    assert builder.text() == "One two."  # one model turn, one message, whatever its parts
    assert texts == ["One", " two."]
    assert [c.id for c in builder.tool_calls] == ["f1"]


def test_pieces_without_a_shared_id_are_still_replaced_by_the_final() -> None:
    # A server that numbers every event anew (the emulator did) still sends pieces, then final.
    builder, _, texts = run(
        adk_event("a", [{"text": "The canvas is now"}], partial=True),
        adk_event("b", [{"text": " 4:5."}], partial=True),
        adk_event("c", [{"text": "The canvas is now 4:5."}]),
    )
    assert builder.text() == "The canvas is now 4:5."
    assert "".join(texts) == "The canvas is now 4:5."


def test_separate_turns_without_a_tool_between_are_separate_messages() -> None:
    builder, _, texts = run(
        adk_event("a", [{"text": "First."}]), adk_event("b", [{"text": "Then."}])
    )
    assert builder.text() == "First.\n\nThen."
    assert texts == ["First.", "\n\nThen."]


def test_a_final_that_differs_from_the_pieces_shown_adds_no_new_text() -> None:
    builder, _, texts = run(
        adk_event("a", [{"text": "Helo"}], partial=True),
        adk_event("a", [{"text": "Hello there"}], partial=False),
    )
    assert builder.text() == "Hello there"  # the reply keeps the final
    assert texts == ["Helo"]  # shown text cannot be taken back


def test_held_calls_are_released_by_their_result_or_at_the_end() -> None:
    _, reported, _ = run(adk_event("a", [call("c1")], partial=True), adk_event("r", [answer("c1")]))
    assert [type(e) for e in reported] == [ToolCall, ToolResult]
    builder, reported, _ = run(adk_event("a", [call("c1"), call("c2")], partial=True))
    assert (
        [c.id for c in builder.tool_calls]
        == ["c1", "c2"]
        == [getattr(e, "id", None) for e in reported]
    )


def test_a_call_id_is_reported_once() -> None:
    builder, _, _ = run(adk_event("a", [call("c1")]), adk_event("b", [call("c1")]))
    assert [c.id for c in builder.tool_calls] == ["c1"]


def test_thoughts_are_not_reply_text() -> None:
    builder, reported, texts = run(
        adk_event("a", [{"text": "hmm", "thought": True}], partial=True),
        adk_event("a", [{"text": "Hi"}], partial=True),
        adk_event("a", [{"text": "hmm", "thought": True}, {"text": "Hi"}], partial=False),
    )
    assert builder.text() == "Hi" and texts == ["Hi"]
    assert len(reported) == 4


@st.composite
def turns(draw: st.DrawFn) -> list[list[str]]:
    words = st.text(alphabet=" ab\n.é", min_size=0, max_size=8)
    return draw(st.lists(st.lists(words, min_size=1, max_size=4), min_size=1, max_size=4))


@settings(max_examples=200, deadline=None)
@given(turns(), st.booleans(), st.booleans())
def test_new_text_joined_is_the_reply_text(
    messages: list[list[str]], streaming: bool, tools: bool
) -> None:
    wire: list[dict[str, Any]] = []
    for n, pieces in enumerate(messages):
        key = f"ev-{n}"
        if streaming:
            wire += [adk_event(key, [{"text": p}], partial=True) for p in pieces]
            wire.append(adk_event(key, [{"text": "".join(pieces)}], partial=False))
        else:
            wire.append(adk_event(key, [{"text": "".join(pieces)}]))
        if tools:
            wire.append(adk_event(f"r-{n}", [answer(f"c{n}")], role="user"))
    builder, reported, texts = run(*wire)
    assert "".join(texts) == builder.text()
    finals = [e for e in reported if isinstance(e, TextDelta) and not e.partial]
    assert len(finals) == len(messages)
