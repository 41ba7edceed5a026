"""Incremental Server-Sent Events decoder: bytes in, events out, no I/O.

Follows the WHATWG HTML "event stream interpretation" rules: CR, LF and CRLF line
ends (a CRLF split across two chunks is one line end), one leading UTF-8 BOM
stripped, comments, fields without a colon, one space stripped after the colon,
``retry`` only when all ASCII digits, ``id`` ignored when it holds NUL, and an
event dispatched on a blank line only when its data buffer is not empty.

Keep-alives: a block that dispatches nothing (a ``: comment`` block, a stray
blank line, an ``event:``/``id:``-only block) is not an event, but the chat layer
must see it to reset its idle timer. :attr:`SSEDecoder.keepalives` says how many
such blocks the last :meth:`~SSEDecoder.feed` (or :meth:`~SSEDecoder.flush`) call
saw; a comment line counts at once, even before its blank line. An empty
``data:`` line *is* an event per the spec (``data == ""``):
:func:`nemo_sdk.events.parse_event` turns it into a ``Heartbeat``.

Speed: the common ``data: {...}`` + blank line block (LF line ends) never goes
through the line parser; everything else does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, NoReturn

import attrs

from .errors import EventTooLargeError

DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024
"""Largest event (or unterminated line) the decoder holds before raising, in bytes."""

_BOM: Final = b"\xef\xbb\xbf"

_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json_loads(text: str) -> Any:
    """``json.loads(text)``, a third faster for the usual event: the C scanner, called directly."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:  # no JSON value at 0 (leading space, garbage): json.loads says why
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


# Not frozen: a frozen attrs class costs ~2.5x more to build, and one is built per event.
@attrs.define(slots=True, weakref_slot=False)
class ServerSentEvent:
    """One dispatched event. Treat as read-only.

    ``id`` is the stream's last event id when the event was dispatched (ids are
    sticky per the spec), ``None`` if the stream never sent one; ``retry`` is the
    reconnection time (ms) sent in this event's block, if any.
    """

    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """``data`` parsed as JSON (raises ``json.JSONDecodeError`` if it is not)."""
        return _json_loads(self.data)


class SSEDecoder:
    """Incremental decoder: :meth:`feed` body chunks, call :meth:`flush` at end of stream.

    Attributes:
        max_event_bytes: limit on one event's block (all its lines) and on one
            unterminated line; past it :meth:`feed` raises ``EventTooLargeError``, and
            keeps raising until :meth:`flush`.
        keepalives: keep-alive blocks seen by the last ``feed``/``flush`` call.
        last_event_id: the spec's "last event ID string" (for ``Last-Event-ID``
            on reconnection), ``None`` until the server sends an ``id``.
        retry: the last valid ``retry`` value (reconnection time, ms), or ``None``.
    """

    __slots__ = (
        "_block_bytes",
        "_block_retry",
        "_commented",
        "_data",
        "_dirty",
        "_event_type",
        "_failed",
        "_head",
        "_id_buffer",
        "_line",
        "_skip_lf",
        "_started",
        "keepalives",
        "last_event_id",
        "max_event_bytes",
        "retry",
    )

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self.max_event_bytes = max_event_bytes
        self.keepalives = 0
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._id_buffer: str | None = None
        self._failed = False
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._line = bytearray()  # the unterminated last line, LF-normalised
        self._started = False  # the leading-BOM check is done
        self._head = b""  # first bytes of the stream while they may still be a BOM
        self._skip_lf = False  # the last chunk ended in CR: a leading LF ends no line
        self._reset_block()

    def _reset_block(self) -> None:
        self._data: list[str] = []
        self._event_type = ""
        self._block_retry: int | None = None
        self._block_bytes = 0  # bytes of the current block's complete lines, LF included
        self._commented = False  # the current block already counted as a keep-alive
        self._dirty = False  # the current block has lines: the fast path must not start

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk (cut anywhere) and return the events it completes."""
        self.keepalives = 0
        if self._failed:
            self._fail()
        if not chunk:
            return []
        if not self._started:
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return []
            self._started = True
            self._head = b""
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            if chunk:
                self._line += chunk
                if self._block_bytes + len(self._line) > self.max_event_bytes:
                    self._fail()
            return []
        if self._line:
            chunk = b"".join((self._line, chunk))
            self._line.clear()
        return self._parse(chunk)

    def flush(self) -> list[ServerSentEvent]:
        """End the stream; returns ``[]``: the spec discards an event not ended by a blank line.

        Resets the decoder for the next connection's stream, keeping
        :attr:`last_event_id` and :attr:`retry` (what a reconnection needs).
        """
        self.keepalives = 0
        self._failed = False
        # Like browsers, the next stream starts from the last dispatched id (an incomplete
        # block's id is dropped with it), so ids stay sticky across reconnections.
        self._id_buffer = self.last_event_id
        self._reset_stream()
        return []

    def _parse(self, data: bytes) -> list[ServerSentEvent]:
        """Decode LF-only ``data`` that holds at least one line end."""
        events: list[ServerSentEvent] = []
        parts = data.split(b"\n\n")
        tail = parts.pop()
        limit = self.max_event_bytes
        # One count instead of a search per block: no LF but the separators means every
        # block is one line, and a short enough ``data`` cannot hold an oversized block.
        simple = len(data) <= limit and data.count(b"\n") == 2 * len(parts) + tail.count(b"\n")
        if parts and self._dirty:
            self._block(parts.pop(0), events)
        append = events.append
        event_id = self._id_buffer
        keepalives = 0
        for part in parts:
            # Each part is the lines of one block; its "\n\n" is its last line end + a blank line.
            if part[:6] == b"data: " and (simple or (b"\n" not in part and len(part) < limit)):
                append(ServerSentEvent(part[6:].decode("utf-8", "replace"), "message", event_id))
            elif part[:1] == b":" and (simple or (b"\n" not in part and len(part) < limit)):
                keepalives += 1
            elif part[:5] == b"data:" and (simple or (b"\n" not in part and len(part) < limit)):
                # "data:" + no space (a "data: " part that failed the same test above is not here)
                append(ServerSentEvent(part[5:].decode("utf-8", "replace"), "message", event_id))
            else:
                self._block(part, events)
                event_id = self._id_buffer
        self.keepalives += keepalives
        end = tail.rfind(b"\n")
        if end >= 0:
            for line in tail[:end].split(b"\n"):
                self._process_line(line, events)
            tail = tail[end + 1 :]
        if tail:
            self._line += tail
            if self._block_bytes + len(tail) > limit:
                self._fail()
        return events

    def _block(self, part: bytes, events: list[ServerSentEvent]) -> None:
        for line in part.split(b"\n"):
            self._process_line(line, events)
        self._dispatch(events)

    def _process_line(self, line: bytes, events: list[ServerSentEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        self._dirty = True
        self._block_bytes += len(line) + 1
        if self._block_bytes > self.max_event_bytes:
            self._fail()
        if line[:1] == b":":
            if not self._commented:
                self._commented = True
                self.keepalives += 1
            return
        # ":" and " " are ASCII, never part of a multi-byte sequence: safe to split bytes.
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event_type = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id_buffer = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():  # bytes.isdigit() is ASCII-only
            self.retry = self._block_retry = int(value)

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        self.last_event_id = self._id_buffer
        if self._data:
            events.append(
                ServerSentEvent(
                    "\n".join(self._data),
                    self._event_type or "message",
                    self._id_buffer,
                    self._block_retry,
                )
            )
        elif not self._commented:
            self.keepalives += 1
        self._reset_block()

    def _fail(self) -> NoReturn:
        self._failed = True
        self._line.clear()
        self._reset_block()
        raise EventTooLargeError(
            f"a Server-Sent Event grew past {self.max_event_bytes} bytes",
            limit=self.max_event_bytes,
        )


__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent"]
