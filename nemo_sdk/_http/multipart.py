"""A streaming multipart body for uploads, with progress.

Each file part reads its source a chunk at a time (in a worker thread, so a
slow disk never blocks the event loop) and reports progress from the event
loop after each chunk is handed to the socket. Sizes are known up front, so
the request carries a Content-Length, not chunked encoding; a file is never
read whole into memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from ..progress import OnProgress, call_back

CHUNK = 1024 * 1024
UploadProgress = OnProgress[[int, int]]
"""``on_progress(bytes_sent, bytes_total)``; may be sync or async."""


@dataclass(frozen=True)
class FilePart:
    """One checked file: how to open it at its start, its name, size and type."""

    filename: str
    size: int
    content_type: str
    open: Callable[[], tuple[IO[bytes], bool]]  # (stream at the start, close it after)


class _Progress:
    def __init__(self, total: int, callback: UploadProgress | None) -> None:
        self.sent = 0
        self.total = total
        self.callback = callback

    async def advance(self, n: int) -> None:
        self.sent += n
        if self.callback is not None:
            await call_back(self.callback, self.sent, self.total)


class _FilePayload(Payload):
    def __init__(self, part: FilePart, progress: _Progress) -> None:
        super().__init__(None, filename=part.filename, content_type=part.content_type)
        self._part = part
        self._size = part.size
        self._progress = progress

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed upload part cannot be decoded to text")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        limit = self._part.size if content_length is None else min(self._part.size, content_length)
        stream, owned = self._part.open()
        try:
            sent = 0
            while sent < limit:
                chunk = await asyncio.to_thread(stream.read, min(CHUNK, limit - sent))
                if not chunk:
                    # The file shrank after it was checked: the Content-Length
                    # already promised more, so the request cannot be completed.
                    raise OSError(f"{self._part.filename} shrank while being uploaded")
                await writer.write(chunk)
                sent += len(chunk)
                await self._progress.advance(len(chunk))
        finally:
            if owned:
                stream.close()


# Control characters (tab aside) cannot stand in a header: aiohttp refuses them as header
# injection. Browsers send CR and LF as %0D and %0A (WHATWG multipart encoding); the
# other control characters get the same treatment.
_CONTROLS = str.maketrans({c: f"%{c:02X}" for c in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F)})


def part_filename(name: str) -> str:
    """``name`` for a part header: as it is, but for control characters (``%0D``, ``%0A``...)."""
    return name.translate(_CONTROLS)


def multipart_body(
    parts: Sequence[FilePart], on_progress: UploadProgress | None
) -> aiohttp.MultipartWriter:
    """A fresh ``multipart/form-data`` body with one ``files`` part per file."""
    progress = _Progress(sum(p.size for p in parts), on_progress)
    writer = aiohttp.MultipartWriter("form-data")
    for part in parts:
        payload = _FilePayload(part, progress)
        # RFC 7578 section 4.2: the name as raw UTF-8 in a quoted string. aiohttp's default
        # percent-encodes it, and the service stores "my%20clip.png" for "my clip.png";
        # with quote_fields=False aiohttp escapes only backslash and quote (a quoted-pair).
        payload.set_content_disposition(
            "form-data", quote_fields=False, name="files", filename=part_filename(part.filename)
        )
        writer.append_payload(payload)
    return writer
