"""Download a file so that a half-written file never sits at the target.

The body goes to a partial file beside the target (``.<name>.<key>.part``),
is fsynced, and only then linked (or, with ``overwrite``, renamed) into
place. An interrupted transfer is resumed with an HTTP ``Range`` request
from the bytes already on disk, within one call and across processes (the
partial file's name is derived from the render id). The final length is
checked against ``Content-Length`` / ``Content-Range``.

Sources are tried in order: the output URL on the CDN origin (never with
the bearer token, API.md "GET /api/render/proxy/<id>/download"), then the
authenticated fallback route on the API origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from yarl import URL

from . import errors
from ._logging import logger
from ._transport import Path as ApiPath
from ._transport import Transport, translate_errors

CHUNK = 1024 * 1024
DownloadProgress = Callable[[int, "int | None"], Any]
"""``on_progress(bytes_on_disk, bytes_total)``; the total is ``None`` when the server hid it."""

# Failed attempts without a byte of progress allowed per source before the next one.
_STALLED_ATTEMPTS = 3
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class Source:
    """Where the file can be fetched: a full URL (unauthenticated) or an API path (bearer)."""

    label: str
    location: URL | ApiPath
    authenticated: bool


class _Restart(Exception):
    """The partial file cannot be continued from this answer; start from byte zero."""


class _Short(errors.APIConnectionError):
    """The body ended before the length the server announced."""


def partial_path(target: Path, key: str) -> Path:
    """The partial file of ``target`` for the download identified by ``key``."""
    return target.with_name(f".{target.name}.{key}.part")


def http_url(value: str | None) -> URL | None:
    """``value`` as a URL if it is absolute http(s); anything else (``file:``...) is refused."""
    if not value:
        return None
    try:
        url = URL(value)
    except (ValueError, TypeError):
        return None
    return url if url.scheme in ("http", "https") and url.host else None


async def _report(callback: DownloadProgress | None, done: int, total: int | None) -> None:
    if callback is not None:
        result = callback(done, total)
        if inspect.isawaitable(result):
            await result


def _open(path: Path, mode: str) -> IO[bytes]:
    # Local file calls stay in the event loop: each is microseconds against a
    # page cache, and a thread hop per chunk would cost more than it saves.
    return open(path, mode)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _Flusher:
    """Flush the partial file to disk while the download goes on.

    The file must be fsynced before it is renamed into place; flushing every
    few MiB in a worker thread overlaps the disk writes with the network
    instead of paying for all of them at the end.
    """

    EVERY = 64 * CHUNK

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._unsynced = 0
        self._task: asyncio.Future[None] | None = None

    def wrote(self, n: int) -> None:
        self._unsynced += n
        if self._unsynced >= self.EVERY and (self._task is None or self._task.done()):
            self._unsynced = 0
            self._fh.flush()
            self._task = asyncio.ensure_future(asyncio.to_thread(os.fdatasync, self._fh.fileno()))

    async def finish(self) -> None:
        """Wait for the flush under way, then make the whole file durable."""
        if self._task is not None:
            with contextlib.suppress(OSError):
                await self._task
        self._fh.flush()
        await asyncio.to_thread(os.fsync, self._fh.fileno())


async def _fetch(
    transport: Transport, source: Source, part: Path, on_progress: DownloadProgress | None
) -> None:
    have = _size(part)
    # identity: a compressed body would make Content-Length disagree with the bytes on disk.
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        async with transport.stream(
            "GET",
            source.location,
            headers=headers,
            authenticated=source.authenticated,
            ok_statuses=frozenset({200, 206}),
        ) as resp:
            total: int | None
            if resp.status == 206:
                match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
                if match is None or int(match[1]) != have:
                    raise _Restart()
                total = None if match[3] == "*" else int(match[3])
                mode = "ab"
            else:  # 200: the server ignored the range, or there was none
                have, mode = 0, "wb"
                total = resp.content_length
            done = have
            with _open(part, mode) as fh:
                flusher = _Flusher(fh)
                try:
                    with translate_errors(f"GET {source.label}"):
                        async for chunk in resp.content.iter_chunked(CHUNK):
                            fh.write(chunk)
                            done += len(chunk)
                            flusher.wrote(len(chunk))
                            await _report(on_progress, done, total)
                finally:
                    await flusher.finish()
    except errors.APIError as exc:
        if exc.status == 416:  # the range is past the file: what we hold is not a prefix of it
            raise _Restart() from exc
        raise
    if total is not None and done != total:
        raise _Short(f"{source.label}: got {done} of {total} bytes")


def _place(part: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(part, target)
    else:
        try:
            # link() fails if the target appeared meanwhile: never overwrite by a race.
            os.link(part, target)
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links
            if target.exists():
                raise FileExistsError(target) from None
            os.replace(part, target)
        else:
            part.unlink()
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prepare_target(target: Path, key: str, overwrite: bool) -> Path:
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    return partial_path(target, key)


async def download(
    transport: Transport,
    sources: Sequence[Source],
    target: Path,
    *,
    key: str,
    overwrite: bool = False,
    on_progress: DownloadProgress | None = None,
) -> Path:
    """Fetch from the first source that works into ``target``; see the module docstring."""
    part = _prepare_target(target, key, overwrite)
    failures: list[str] = []
    last: BaseException | None = None
    for source in sources:
        stalled = 0
        reason: object = "the answer could not be resumed"
        while stalled < _STALLED_ATTEMPTS:
            before = _size(part)
            try:
                await _fetch(transport, source, part, on_progress)
            except _Restart:
                part.unlink(missing_ok=True)
                stalled += 1
                continue
            except (errors.APIConnectionError, errors.ServerError) as exc:
                last = reason = exc
                stalled = 0 if _size(part) > before else stalled + 1
                logger.info("download from %s interrupted (%s); resuming", source.label, exc)
                continue
            except errors.NemoError as exc:
                last = reason = exc
                break
            _place(part, target, overwrite)
            return target
        failures.append(f"{source.label}: {reason}")
        logger.warning("download from %s failed: %s", source.label, reason)
    raise errors.DownloadError(
        f"could not download to {target}: " + "; ".join(failures or ["no source"])
    ) from last
