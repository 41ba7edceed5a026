"""SSEDecoder: the WHATWG event-stream rules, chunking, limits and keep-alives."""

from __future__ import annotations

import pytest

from nemo_sdk.errors import EventTooLarge
from nemo_sdk.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes, decoder: SSEDecoder | None = None) -> list[ServerSentEvent]:
    decoder = decoder or SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.flush()


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in decode(*chunks)]


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# --- line ends -------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_each_line_end_style(eol: bytes) -> None:
    body = b"data: a" + eol + b"data: b" + eol + eol + b"event: e" + eol + b"data: c" + eol + eol
    expected = [ServerSentEvent("a\nb"), ServerSentEvent("c", "e")]
    assert decode(body) == expected
    assert decode(*bytewise(body)) == expected


def test_mixed_line_ends_in_one_stream() -> None:
    assert datas(b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r") == ["a\nb\nc", "d"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # "\r" | "\n" must not become two line ends, i.e. a blank line that dispatches early.
    assert datas(b"data: a\r", b"\ndata: b\r\n\r", b"\n") == ["a\nb"]


def test_cr_at_chunk_end_dispatches_without_waiting_for_next_chunk() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ServerSentEvent("a")]
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [ServerSentEvent("b")]


def test_cr_then_cr_lf_across_chunks() -> None:
    # "\r" | "\r\n": two line ends, the second one a blank line.
    assert datas(b"data: a\r", b"\r\n") == ["a"]


def test_lf_after_cr_only_skipped_once() -> None:
    # The skipped LF belongs to the CRLF; an empty chunk in between changes nothing.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("a")]


# --- BOM ---------------------------------------------------------------------


def test_leading_bom_stripped() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


def test_bom_split_across_chunks() -> None:
    assert datas(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == ["a"]


def test_only_one_bom_stripped() -> None:
    # A second BOM is part of the field name, which then matches nothing.
    assert datas(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == ["b"]


def test_bom_later_in_stream_kept() -> None:
    assert datas(b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\ndata: \xef\xbb\xbfc\n\n") == [
        "a",
        "\ufeffc",
    ]


def test_stream_that_only_starts_like_a_bom_is_not_stripped() -> None:
    # "\xefdata" is no field name: the first block dispatches nothing.
    assert datas(b"\xef", b"data: a\n\ndata: b\n\n") == ["b"]
    assert datas(b"\xef\xbb", b"data: a\n\ndata: b\n\n") == ["b"]


# --- fields ------------------------------------------------------------------


def test_comments_ignored_and_counted_as_keepalives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": keep-alive\n\n") == []
    assert decoder.keepalives == 1
    assert decoder.feed(b":\n\n: a\n\n") == []
    assert decoder.keepalives == 2
    assert decoder.feed(b"data: x\n: inside an event\ndata: y\n\n") == [ServerSentEvent("x\ny")]


def test_field_without_colon_is_a_name_with_empty_value() -> None:
    assert decode(b"data\n\n") == [ServerSentEvent("")]
    assert decode(b"data\ndata\ndata: x\n\n") == [ServerSentEvent("\n\nx")]
    assert decode(b"event\ndata: x\n\n") == [ServerSentEvent("x", "message")]


def test_exactly_one_space_after_colon_stripped() -> None:
    assert datas(b"data:  x\n\n") == [" x"]
    assert datas(b"data:x\n\n") == ["x"]
    assert datas(b"data: x \n\n") == ["x "]
    assert datas(b"data:\tx\n\n") == ["\tx"]


def test_value_keeps_later_colons() -> None:
    assert datas(b'data: {"a": "b:c"}\n\n') == ['{"a": "b:c"}']


def test_multiline_data_joined_with_lf() -> None:
    assert datas(b"data: a\ndata:\ndata: c\n\n") == ["a\n\nc"]


def test_empty_data_line_is_an_event_with_empty_data() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data:\n\ndata: \n\n") == [ServerSentEvent(""), ServerSentEvent("")]
    assert decoder.keepalives == 0


def test_block_without_data_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: ping\n\nid: 7\n\n\n") == []
    assert decoder.keepalives == 3  # two field-only blocks, one stray blank line
    assert decoder.last_event_id == "7"


def test_unknown_fields_ignored() -> None:
    assert decode(b"foo: bar\nDATA: no\ndata: yes\n\n") == [ServerSentEvent("yes")]


def test_event_type_resets_after_dispatch() -> None:
    assert decode(b"event: a\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n") == [
        ServerSentEvent("1", "a"),
        ServerSentEvent("2", "message"),
        ServerSentEvent("3", "message"),
    ]


def test_event_type_of_undispatched_block_does_not_leak() -> None:
    assert decode(b"event: a\n\ndata: 1\n\n") == [ServerSentEvent("1", "message")]


# --- id and retry ------------------------------------------------------------


def test_id_is_sticky_until_changed() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [e.id for e in events] == ["1", "1", ""]
    assert decoder.last_event_id == ""


def test_id_with_nul_ignored() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]
    assert decoder.last_event_id == "1"


def test_id_without_dispatch_still_sets_last_event_id() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 9\n\n")
    assert decoder.last_event_id == "9"
    assert decoder.feed(b"data: a\n\n") == [ServerSentEvent("a", id="9")]


def test_id_of_incomplete_block_dropped_at_flush() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
    assert decoder.flush() == []
    assert decoder.last_event_id == "1"
    assert decoder.feed(b"data: c\n\n") == [ServerSentEvent("c", id="1")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"retry: 3000", 3000),
        (b"retry:0", 0),
        (b"retry: 30s", None),
        (b"retry: -1", None),
        (b"retry: 3.5", None),
        (b"retry: ", None),
        (b"retry", None),
        (b"retry:  1", None),  # the second space is part of the value
        ("retry: ١٢".encode(), None),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_retry_only_ascii_digits(line: bytes, expected: int | None) -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(line + b"\ndata: x\n\n")
    assert event.retry == expected
    assert decoder.retry == expected


def test_retry_belongs_to_its_block_but_is_remembered() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: 5\ndata: a\n\ndata: b\n\n")
    assert [e.retry for e in events] == [5, None]
    assert decoder.retry == 5


# --- UTF-8 -------------------------------------------------------------------


def test_utf8_split_across_chunks_at_every_byte() -> None:
    body = "data: héllo 字幕 🎬\n\nevent: ün\ndata: ✓\n\n".encode()
    expected = [ServerSentEvent("héllo 字幕 🎬"), ServerSentEvent("✓", "ün")]
    assert decode(*bytewise(body)) == expected
    for cut in range(len(body)):
        assert decode(body[:cut], body[cut:]) == expected


def test_invalid_utf8_replaced() -> None:
    assert datas(b"data: a\xffb\xe2\x82\n\n") == ["a\ufffdb\ufffd"]


# --- chunking and the fast path ----------------------------------------------


def test_chunk_boundaries_anywhere_give_same_events() -> None:
    body = (
        b"data: a\n\n: ka\n\ndata: b\ndata: c\n\nid: 4\nevent: x\ndata: d\n\n"
        b"data:\n\n\n\ndata: e\r\n\r\ndata: f\n\n"
    )
    whole = decode(body)
    assert [e.data for e in whole] == ["a", "b\nc", "d", "", "e", "f"]
    for cut in range(len(body) + 1):
        for cut2 in range(cut, len(body) + 1, 7):
            assert decode(body[:cut], body[cut:cut2], body[cut2:]) == whole


def test_block_pending_from_previous_chunk_is_not_taken_by_fast_path() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\n") == []
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [
        ServerSentEvent("a", "x"),
        ServerSentEvent("b"),
    ]


def test_comment_pending_from_previous_chunk_counts_once() -> None:
    decoder = SSEDecoder()
    decoder.feed(b": a\n")
    assert decoder.keepalives == 1
    assert decoder.feed(b": b\n\n") == []
    assert decoder.keepalives == 0


def test_keepalives_count_per_call() -> None:
    decoder = SSEDecoder()
    decoder.feed(b": a\n\n: b\n\n")
    assert decoder.keepalives == 2
    decoder.feed(b"data: x\n\n")
    assert decoder.keepalives == 0
    decoder.feed(b"data: x\n\n\n")  # a stray blank line is a keep-alive too
    assert decoder.keepalives == 1


def test_comment_line_counts_before_its_blank_line() -> None:
    # Some servers send ":\n" alone as a keep-alive: it must reset the idle timer at once.
    decoder = SSEDecoder()
    decoder.feed(b":\n")
    assert decoder.keepalives == 1


# --- flush -------------------------------------------------------------------


def test_flush_discards_incomplete_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [ServerSentEvent("a")]
    assert decoder.flush() == []
    decoder2 = SSEDecoder()
    assert decoder2.feed(b"data: a") == []
    assert decoder2.flush() == []


def test_flush_resets_for_next_stream() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 3\ndata: a\n\nevent: x\ndata: partial")
    decoder.flush()
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [ServerSentEvent("b", id="3")]


def test_flush_after_cr_forgets_pending_lf() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\r")
    decoder.flush()
    assert decoder.feed(b"\ndata: b\n\n") == [ServerSentEvent("b")]


# --- limits ------------------------------------------------------------------


def test_huge_event_raises() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"data: " + b"x" * 2000 + b"\n\n")
    assert info.value.limit == 1000


def test_huge_event_of_many_small_lines_raises() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(EventTooLarge):
        for _ in range(200):
            decoder.feed(b"data: 0123456789\n")


def test_huge_unterminated_line_raises_and_stays_bounded() -> None:
    decoder = SSEDecoder(max_event_bytes=10_000)
    with pytest.raises(EventTooLarge):
        for _ in range(100):
            decoder.feed(b"data: " + b"y" * 1000)
            assert len(decoder._line) <= 10_000 + 1006


def test_event_at_limit_passes() -> None:
    line = b"data: " + b"x" * 94  # 100 bytes, 101 with its line end
    assert SSEDecoder(max_event_bytes=101).feed(line + b"\n\n") == [ServerSentEvent("x" * 94)]
    with pytest.raises(EventTooLarge):
        SSEDecoder(max_event_bytes=100).feed(line + b"\n\n")
    with pytest.raises(EventTooLarge):
        SSEDecoder(max_event_bytes=100).feed(line + b"\n")


def test_decoder_refuses_input_after_too_large_until_flush() -> None:
    decoder = SSEDecoder(max_event_bytes=50)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: " + b"z" * 100)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"\n\ndata: ok\n\n")
    decoder.flush()
    assert decoder.feed(b"data: ok\n\n") == [ServerSentEvent("ok")]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_bytes=0)


# --- ServerSentEvent -----------------------------------------------------------


def test_server_sent_event_json_and_defaults() -> None:
    event = ServerSentEvent('{"a": [1, 2]}')
    assert event.json() == {"a": [1, 2]}
    assert (event.event, event.id, event.retry) == ("message", None, None)


@pytest.mark.parametrize(
    "data", ['{"a": 1}', ' {"a": 1}', '{"a": 1} ', "[1, 2]", '"s"', "3", "null"]
)
def test_json_matches_json_loads(data: str) -> None:
    import json

    assert ServerSentEvent(data).json() == json.loads(data)


@pytest.mark.parametrize(
    "data", ['{"a": 1} x', "{", '{"a": }', "", " ", "nan nan", "[1]]", "\ufeff{}"]
)
def test_json_errors_like_json_loads(data: str) -> None:
    import json

    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(data)
    with pytest.raises(json.JSONDecodeError) as got:
        ServerSentEvent(data).json()
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)
