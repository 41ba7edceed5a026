"""The reply-text rules (pure): ADK pieces counted once, messages, trailing noise."""

from __future__ import annotations

from nemo_sdk._chat_text import ReplyBuilder
from nemo_sdk.events import ChatEvent, parse_data


def build(*datas: str) -> ReplyBuilder:
    builder = ReplyBuilder()
    for data in datas:
        events: list[ChatEvent] = parse_data(data)
        for event in events:
            builder.add(event)
    return builder


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
