"""SSEDecoder properties: encode random events any way, cut anywhere, get them back."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from nemo_sdk.errors import EventTooLarge
from nemo_sdk.sse import ServerSentEvent, SSEDecoder

SETTINGS = settings(max_examples=250, deadline=None)

# No surrogates (not encodable) and no CR or LF (line ends); "\n" in data is
# encoded as several data lines, so data may hold it.
_line_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")
line_text = st.text(_line_chars, max_size=12)
data_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=40)
EOLS = (b"\n", b"\r", b"\r\n")


@dataclass
class Spec:
    data: str
    event: str | None
    id: str | None
    retry: int | None
    comment: str | None


specs = st.builds(
    Spec,
    data=data_text,
    event=st.none() | st.text(_line_chars, min_size=1, max_size=10),
    id=st.none()
    | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"), max_size=8),
    retry=st.none() | st.integers(0, 10**9),
    comment=st.none() | line_text,
)


def expected_events(items: list[Spec]) -> list[ServerSentEvent]:
    events, last_id = [], None
    for item in items:
        last_id = item.id if item.id is not None else last_id
        events.append(ServerSentEvent(item.data, item.event or "message", last_id, item.retry))
    return events


def lines_of(item: Spec) -> list[str]:
    lines = [] if item.comment is None else [":" + item.comment]
    if item.event is not None:
        lines.append("event: " + item.event)
    if item.id is not None:
        lines.append("id: " + item.id)
    if item.retry is not None:
        lines.append(f"retry: {item.retry}")
    lines.extend("data: " + line for line in item.data.split("\n"))
    return [*lines, ""]


@st.composite
def encoded_streams(draw: st.DrawFn) -> tuple[list[Spec], bytes]:
    items = draw(st.lists(specs, max_size=8))
    style = draw(st.sampled_from(["lf", "cr", "crlf", "mixed"]))
    out = [b"\xef\xbb\xbf"] if draw(st.booleans()) else []
    previous = b""
    for line in (line for item in items for line in lines_of(item)):
        if style == "mixed":
            eol = draw(st.sampled_from(EOLS))
            # CR then an LF-ended blank line would read as one CRLF: not a blank line.
            if previous == b"\r" and not line and eol == b"\n":
                eol = b"\r\n"
        else:
            eol = {"lf": b"\n", "cr": b"\r", "crlf": b"\r\n"}[style]
        out += [line.encode(), eol]
        previous = eol
    return items, b"".join(out)


@st.composite
def cuts(draw: st.DrawFn, body: bytes) -> list[bytes]:
    points = sorted(draw(st.lists(st.integers(0, len(body)), max_size=12)))
    bounds = [0, *points, len(body)]
    return [body[a:b] for a, b in pairwise(bounds)]


def run(chunks: list[bytes], **kwargs: int) -> tuple[list[ServerSentEvent], int]:
    decoder = SSEDecoder(**kwargs)
    events, keepalives = [], 0
    for chunk in chunks:
        events += decoder.feed(chunk)
        keepalives += decoder.keepalives
    events += decoder.flush()
    return events, keepalives


@SETTINGS
@given(st.data())
def test_any_encoding_any_chunking_round_trips(data: st.DataObject) -> None:
    items, body = data.draw(encoded_streams())
    chunks = data.draw(cuts(body))
    whole, whole_keepalives = run([body])
    assert whole == expected_events(items)
    assert run(chunks) == (whole, whole_keepalives)


@SETTINGS
@given(st.data())
def test_one_byte_at_a_time_round_trips(data: st.DataObject) -> None:
    items, body = data.draw(encoded_streams())
    assert run([body[i : i + 1] for i in range(len(body))])[0] == expected_events(items)


noisy_bytes = st.lists(
    st.sampled_from([b"\n", b"\r", b"\r\n", b":", b" ", b"data", b"id", b"\xef\xbb\xbf", b"\0"])
    | st.binary(max_size=20),
    max_size=30,
).map(b"".join)


@SETTINGS
@given(st.data(), noisy_bytes, st.integers(1, 64))
def test_random_bytes_only_raise_too_large_and_stay_bounded(
    data: st.DataObject, body: bytes, limit: int
) -> None:
    chunks = data.draw(cuts(body))
    decoder = SSEDecoder(max_event_bytes=limit)
    chunked: list[ServerSentEvent] = []
    chunked_failed = False
    try:
        for chunk in chunks:
            chunked += decoder.feed(chunk)
            assert decoder._block_bytes + len(decoder._line) <= limit
            assert all(len(event.data.encode()) <= limit for event in chunked)
    except EventTooLarge as exc:
        assert exc.limit == limit
        chunked_failed = True
    try:
        whole = run([body], max_event_bytes=limit)[0]
    except EventTooLarge:
        assert chunked_failed
    else:
        assert not chunked_failed
        assert chunked + decoder.flush() == whole
