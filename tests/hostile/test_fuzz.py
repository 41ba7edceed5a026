"""Hostile input to the pure decoders: only typed errors come out, memory stays bounded.

Random bytes, huge lines, deep JSON and invalid UTF-8 go into the SSE decoder
(``nemo_sdk.sse``), the chat event parser (``nemo_sdk.events``), the envelope
decoder (``nemo_sdk._http.envelope``) and the draft models (``nemo_sdk.models.draft``).
Whatever goes in, what comes out is a result or a ``NemoError`` subclass: never a
KeyError, TypeError, RecursionError, UnicodeDecodeError or pydantic's own errors.
"""

from __future__ import annotations

import contextlib
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nemo_sdk import (
    ActionsEvent,
    APIError,
    Draft,
    ErrorEvent,
    EventParseError,
    EventTooLarge,
    Heartbeat,
    NemoError,
    TextDelta,
    Thought,
    ToolCall,
    ToolResult,
    UnknownEvent,
)
from nemo_sdk._http import envelope as _envelope
from nemo_sdk.errors import InvalidDraft  # not exported from nemo_sdk yet
from nemo_sdk.events import parse_data, parse_event
from nemo_sdk.models.draft import Segment, Track
from nemo_sdk.sse import ServerSentEvent, SSEDecoder

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
# Objects shaped like the two chat event shapes, with wrong types anywhere.
adk_part = st.fixed_dictionaries(
    {},
    optional={
        "text": json_values,
        "thought": json_values,
        "functionCall": st.fixed_dictionaries(
            {}, optional={"id": json_values, "name": json_values, "args": json_values}
        )
        | json_values,
        "functionResponse": st.fixed_dictionaries(
            {}, optional={"id": json_values, "name": json_values, "response": json_values}
        )
        | json_values,
    },
)
adk_event = st.fixed_dictionaries(
    {
        "content": st.fixed_dictionaries(
            {},
            optional={
                "parts": st.lists(adk_part | json_values, max_size=4) | json_values,
                "role": json_values,
            },
        )
        | json_values
    },
    optional={
        "author": json_values,
        "partial": json_values,
        "invocationId": json_values,
        "id": json_values,
    },
)
flat_event = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "tool_call", "tool_result", "heartbeat", "x"]) | json_values},
    optional={k: json_values for k in ("content", "name", "args", "result", "id", "partial")},
)
event_objects = adk_event | flat_event | json_values


def _check_events(events: list[Any]) -> None:
    assert events, "parse_data always yields at least one event"
    for event in events:
        if isinstance(event, TextDelta):
            assert isinstance(event.text, str)
        elif isinstance(event, ToolCall):
            assert isinstance(event.name, str) and isinstance(event.args, dict)
        elif isinstance(event, ToolResult):
            assert isinstance(event.name, str)
        elif isinstance(event, Thought):
            assert isinstance(event.text, str)
        elif isinstance(event, ErrorEvent):
            assert event.code is None or isinstance(event.code, str)
            assert event.message is None or isinstance(event.message, str)
            assert event.details is None or isinstance(event.details, dict)
        elif isinstance(event, ActionsEvent):
            assert isinstance(event.actions, dict)
        elif isinstance(event, UnknownEvent):
            assert isinstance(event.data, str)
        else:
            assert isinstance(event, Heartbeat)


def _decode_all(decoder: SSEDecoder, chunks: list[bytes]) -> list[ServerSentEvent] | None:
    """Every event of ``chunks``; ``None`` if the decoder refused an event as too large."""
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
    except EventTooLarge:
        decoder.flush()
        return None
    decoder.flush()
    return events


# --- SSE decoder -------------------------------------------------------------------

sse_bytes = st.lists(
    st.binary(max_size=60)
    | st.sampled_from([b"data: ", b"data:", b"\n", b"\r", b"\r\n", b"\n\n", b": ping\n",
                       b"\xef\xbb\xbf", b"event: x\n", b"id: \x00\n", b"retry: 12\n",
                       b"\xff\xfe", b'{"content":', b"\xc3"]),
    max_size=25,
).map(b"".join)  # fmt: skip


@FUZZ
@given(body=sse_bytes, cuts=st.lists(st.integers(0, 2000), max_size=6), limit=st.integers(1, 300))
def test_sse_decoder_takes_any_bytes_cut_anywhere(body: bytes, cuts: list[int], limit: int) -> None:
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    whole = _decode_all(SSEDecoder(max_event_bytes=limit), [body])
    pieces = _decode_all(SSEDecoder(max_event_bytes=limit), chunks)
    if whole is not None and pieces is not None:
        assert pieces == whole  # where the chunks were cut changes nothing
    for events in (whole, pieces):
        for sse in events or []:
            assert isinstance(sse.data, str) and isinstance(sse.event, str)
            _check_events(parse_event(sse))
            try:
                _check_events(parse_event(sse, strict=True))
            except EventParseError as exc:
                assert exc.data == sse.data[:2000]


def _peak_while(feed: Any) -> int:
    tracemalloc.start()
    try:
        feed()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_line_is_refused_with_bounded_memory() -> None:
    limit, chunk = 256 * 1024, b"x" * 65536

    def feed() -> None:
        decoder = SSEDecoder(max_event_bytes=limit)
        refused = 0
        decoder.feed(b"data: ")
        for _ in range(256):  # 16 MiB of one endless line
            try:
                decoder.feed(chunk)
            except EventTooLarge as exc:
                assert exc.limit == limit
                refused += 1
                decoder.flush()  # the caller gives up on the stream; a new one starts
        assert refused >= 256 // 5

    assert _peak_while(feed) < 4 * limit


def test_a_huge_block_of_short_lines_is_refused_with_bounded_memory() -> None:
    limit = 256 * 1024

    def feed() -> None:
        decoder = SSEDecoder(max_event_bytes=limit)
        with pytest.raises(EventTooLarge):
            for _ in range(10_000):
                decoder.feed(b"data: " + b"y" * 200 + b"\n")  # 2 MiB, never a blank line

    assert _peak_while(feed) < 4 * limit


def test_the_default_limit_applies_to_the_chat_decoder() -> None:
    decoder = SSEDecoder()
    with pytest.raises(EventTooLarge) as info:
        for _ in range(20):
            decoder.feed(b"data: " + b"z" * (1024 * 1024))
    assert info.value.limit == 16 * 1024 * 1024
    assert isinstance(info.value, NemoError)


# --- chat events ---------------------------------------------------------------------


@FUZZ
@given(obj=event_objects)
def test_any_json_event_parses_to_typed_events(obj: Any) -> None:
    text = json.dumps(obj)
    _check_events(parse_data(text))
    _check_events(parse_data(text.encode()))
    _check_events(parse_data(text, strict=True))  # valid JSON: strict never raises


@FUZZ
@given(data=st.binary(max_size=200) | st.text(max_size=200))
@example(data=b"\xff\xfe{}")
@example(data=b'{"content": {"parts": [{"text": "\xc3"}]}}')
@example(data="\ud800")
def test_any_bytes_or_text_parse_or_raise_event_parse_error(data: bytes | str) -> None:
    _check_events(parse_data(data))
    with contextlib.suppress(EventParseError):
        _check_events(parse_data(data, strict=True))


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_is_an_unknown_event_not_a_recursion_error(depth: int) -> None:
    deep = "[" * depth + "]" * depth
    for data in (deep, '{"content": {"parts": [' + deep + "]}}", deep.encode()):
        (event,) = parse_data(data)
        assert isinstance(event, UnknownEvent)
        try:
            parse_data(data, strict=True)
        except EventParseError as exc:
            assert "JSON" in str(exc)


def test_huge_text_event_is_kept_whole() -> None:
    text = "w" * (4 * 1024 * 1024)
    (event,) = parse_data(json.dumps({"type": "text", "content": text}))
    assert isinstance(event, TextDelta) and event.text == text


# --- the envelope decoder --------------------------------------------------------------

statuses = st.sampled_from([200, 201, 204, 301, 302, 400, 401, 402, 403, 404, 409, 416, 429,
                            500, 502, 503]) | st.integers(100, 599)  # fmt: skip
header_values = st.text(max_size=40) | st.sampled_from(
    ["0", "1.5", "-3", "1e400", "nan", "inf", "Mon, 01 Jan 99999 00:00:00 GMT",
     "Tue, 31 Dec 9999 23:59:59 -2359", "Wed, 21 Oct 2015 07:28:00 GMT"]
)  # fmt: skip
codes = json_values | st.sampled_from(
    [0, 1001, 1002, 2001, 4001, 4002, 429, "1001", "²", "9" * 5000, 1001.0, 1e400, -1, "-"]
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {},
    optional={"code": codes, "message": json_values, "data": json_values,
              "success": json_values, "error": json_values, "status": json_values},
)  # fmt: skip
bodies = (
    envelopes.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"code": "' + b"9" * 5000 + b'"}', b""])
)


@FUZZ
@given(
    status=statuses,
    headers=st.dictionaries(
        st.sampled_from(["Retry-After", "X-Request-Id", "Location", "Content-Type"]),
        header_values,
    ),
    body=bodies,
    user_id=st.none() | st.text(max_size=10) | st.just("anon_123"),
)
def test_envelope_decoder_returns_a_dict_or_a_typed_error(
    status: int, headers: dict[str, str], body: bytes, user_id: str | None
) -> None:
    try:
        doc = _envelope.decode(status, headers, body, web_url="https://w", user_id=user_id)
    except APIError as exc:
        assert exc.status == status
        assert exc.body is None or len(exc.body) <= 2000
        assert str(exc) and repr(exc)
        retry_after = getattr(exc, "retry_after", None)
        assert retry_after is None or retry_after >= 0
    else:
        assert isinstance(doc, dict)
        assert 200 <= status < 300
        assert isinstance(_envelope.data_of(doc), object)
    error = _envelope.error_for(status, headers, body)
    assert error is None or isinstance(error, APIError)


@FUZZ
@given(value=st.none() | header_values)
def test_retry_after_is_a_finite_non_negative_number_or_none(value: str | None) -> None:
    seconds = _envelope.parse_retry_after(value)
    assert seconds is None or (seconds >= 0 and seconds != float("inf"))


@pytest.mark.parametrize("code", ["²", "١٠٠١", "9" * 5000, "-", " 1001 ", 1001.0, 1e400])
def test_odd_codes_do_not_escape_as_value_errors(code: Any) -> None:
    body = json.dumps({"code": code, "message": "odd"}).encode()
    try:
        _envelope.decode(200, {}, body)
    except APIError as exc:
        assert exc.code in (1001, None)


def test_float_and_padded_codes_are_the_codes_they_spell() -> None:
    for code in (1001.0, " 1001 "):
        body = json.dumps({"code": code, "message": "token expired"}).encode()
        with pytest.raises(APIError) as info:
            _envelope.decode(200, {}, body)
        assert info.value.code == 1001 and type(info.value).__name__ == "AuthenticationError"


# --- the draft models ------------------------------------------------------------------

segments = st.fixed_dictionaries(
    {},
    optional={"d": json_values | st.integers(0, 10**6), "s": json_values,
              "m": st.dictionaries(st.text(max_size=6), json_values, max_size=4) | json_values,
              "x": json_values},
)  # fmt: skip
tracks = st.fixed_dictionaries(
    {},
    optional={"tt": st.sampled_from([0, 1, 7, 42]) | json_values,
              "sg": st.lists(segments | json_values, max_size=3) | json_values, "y": json_values},
)  # fmt: skip
drafts = st.fixed_dictionaries(
    {},
    optional={"t": st.lists(tracks | json_values, max_size=3) | json_values,
              "d": json_values, "m": json_values, "z": json_values},
)  # fmt: skip


@FUZZ
@given(wire=drafts | json_values)
def test_any_json_is_a_lossless_draft_or_invalid_draft(wire: Any) -> None:
    try:
        draft = Draft.from_wire(wire)
    except InvalidDraft as exc:
        assert isinstance(exc, NemoError) and str(exc)
        return
    # What was read is written back exactly: same keys, order, values and JSON types.
    assert json.dumps(draft.to_wire()) == json.dumps(wire)
    assert json.loads(draft.model_dump_json(by_alias=True)) == wire
    draft.is_exportable, draft.end_ms  # noqa: B018 - never raise on a parsed draft
    for model in (Segment, Track):
        with contextlib.suppress(InvalidDraft):
            model.from_wire(wire)


def test_deep_metadata_is_an_invalid_draft_not_a_serializer_error() -> None:
    wire: dict[str, Any] = {"t": [{"tt": 0, "sg": [{"d": 1, "m": {}}]}]}
    node = wire["t"][0]["sg"][0]["m"]
    for _ in range(600):  # json.loads reads this; pydantic-core's serializer stops earlier
        node["a"] = {}
        node = node["a"]
    assert json.loads(json.dumps(wire)) == wire
    draft = Draft.from_wire(json.loads(json.dumps(wire)))
    assert draft.is_exportable
    with pytest.raises(InvalidDraft):
        draft.to_wire()
    with pytest.raises(InvalidDraft):
        draft.model_dump_json()


@pytest.mark.parametrize(
    "wire",
    [{"d": "5"}, {"d": True}, {"t": [{"tt": "7"}]}, {"t": [{"tt": 1.0}]}, {"t": [{"tt": True}]},
     {"t": [{"sg": [{"s": False}]}]}, {"t": "nope"}, {"t": [1]}, [], "draft", None],
)  # fmt: skip
def test_values_that_would_come_back_changed_are_refused(wire: Any) -> None:
    # Coercing "5" to 5 or true to 1 would send the service a draft it did not write.
    with pytest.raises(InvalidDraft):
        Draft.from_wire(wire)
