"""Download a render into a writable stream (object storage, a temporary file, a socket).

The same checks as a download to a path (:mod:`._download`): an HTML/JSON/text
answer, or a body whose leading bytes are not media, is refused; the length is
checked against ``Content-Length`` / ``Content-Range``; an interrupted transfer
resumes with ``Range`` from the bytes already written; the output URL is
fetched without the bearer token before the authenticated fallback route. A
stream cannot be rewound unless it is seekable: a server that restarts the file
mid-way then fails the download rather than append a second copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, runtime_checkable

from .. import errors
from .._http import Transport
from .._util.logging import logger
from ..progress import call_back
from . import media_types as _media_types
from .download import (
    CHUNK,
    DownloadProgress,
    NotAContinuationError,
    Source,
    announced_total,
    ranged_get,
)

_STALLED_ATTEMPTS = 3


@runtime_checkable
class Writable(Protocol):
    """A binary stream, or an async writer: ``write(bytes)`` may return an awaitable."""

    def write(self, data: bytes, /) -> int | Awaitable[Any] | None:
        """Take ``data`` (all of it)."""
        ...


def is_writable(target: object) -> bool:
    """True for a stream-like target (not a path)."""
    return not isinstance(target, (str, bytes)) and callable(getattr(target, "write", None))


def _media(head: bytes, source: Source) -> bytes:
    """``head`` if its bytes announce a media file, else the typed refusal."""
    if _media_types.sniff(head) is None:
        raise errors.InvalidResponseError(
            f"{source.label} sent bytes that are not a video file", status=200
        )
    return head


async def _write(sink: Writable, chunk: bytes) -> None:
    result = sink.write(chunk)
    if inspect.isawaitable(result):
        await result


def _rewind(sink: Writable, start: int) -> bool:
    seek, truncate = getattr(sink, "seek", None), getattr(sink, "truncate", None)
    seekable = getattr(sink, "seekable", None)
    if seek is None or truncate is None or (seekable is not None and not seekable()):
        return False
    seek(start)
    truncate()
    return True


class _Sink:
    """The stream and how many bytes of the file it holds (kept when a transfer breaks)."""

    def __init__(self, stream: Writable) -> None:
        self.stream = stream
        tell = getattr(stream, "tell", None)
        try:
            self.start = int(tell()) if callable(tell) else 0
        except (OSError, ValueError):
            self.start = 0  # a pipe or socket: no position, none needed unless rewound
        self.done = 0

    def rewind(self) -> bool:
        if self.done and not _rewind(self.stream, self.start):
            return False
        self.done = 0
        return True


async def _fetch(
    transport: Transport, source: Source, sink: _Sink, on_progress: DownloadProgress | None
) -> None:
    """Continue the body from the bytes ``sink`` holds."""
    have = sink.done
    async with ranged_get(transport, source, have) as resp:
        total = announced_total(resp, have, source.label)
        if resp.status != 206 and not sink.rewind():  # 200: the whole file from byte zero
            raise NotAContinuationError()

        async def emit(chunk: bytes) -> None:
            await _write(sink.stream, chunk)
            sink.done += len(chunk)
            if on_progress is not None:
                await call_back(on_progress, sink.done, total)

        # From byte zero, the leading bytes are held back until they show media: a stream
        # cannot take back an error page or an empty body once it has been written.
        head: bytearray | None = bytearray() if sink.done == 0 else None
        async for chunk in resp.iter_chunks(CHUNK):
            if head is not None:
                head += chunk
                if len(head) < _media_types.HEAD_BYTES:
                    continue
                chunk, head = _media(bytes(head), source), None
            await emit(chunk)
        if head is not None:  # the whole body was shorter than the sniffer's window
            await emit(_media(bytes(head), source))
    if total is not None and sink.done != total:
        raise errors.APIConnectionError(f"{source.label}: got {sink.done} of {total} bytes")


async def download_to(
    transport: Transport,
    sources: Sequence[Source],
    stream: Writable,
    *,
    on_progress: DownloadProgress | None = None,
) -> int:
    """Write the file into ``stream`` from the first source that works; its size."""
    sink = _Sink(stream)
    failures: list[str] = []
    last: BaseException | None = None
    for source in sources:
        stalled = 0
        while stalled < _STALLED_ATTEMPTS:
            before = sink.done
            try:
                await _fetch(transport, source, sink, on_progress)
            except NotAContinuationError:
                if not sink.rewind():
                    raise errors.DownloadError(
                        f"{source.label} restarted the file after {sink.done} bytes were "
                        "written and the stream cannot be rewound; download into a new stream"
                    ) from None
                stalled += 1
            except (errors.APIConnectionError, errors.ServerError) as exc:
                last = exc
                stalled = 0 if sink.done > before else stalled + 1
                logger.info("download from %s interrupted (%s); resuming", source.label, exc)
            except errors.NemoError as exc:
                last = exc
                break
            else:
                return sink.done
        failures.append(f"{source.label}: {last}")
        logger.warning("download from %s failed: %s", source.label, last)
    raise errors.DownloadError(
        "could not download into the stream: " + "; ".join(failures or ["no source"])
    ) from last
