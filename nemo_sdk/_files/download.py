"""Download a file so that a half-written file never sits at the target.

The body goes to a partial file beside the target (``.<name>.<key>.part``),
is fsynced, and only then linked (or, with ``overwrite``, renamed) into
place. One writer at a time: the partial file is locked (``fcntl.flock``;
on platforms without it, no lock is taken), and a second download of the
same key to the same target waits for the first and returns its file.

An interrupted transfer is resumed with an HTTP ``Range`` request from the
bytes already on disk, within one call and across processes (the partial
file's name is derived from the render id), but only with ``If-Range``: the
ETag (or Last-Modified) the server sent with the first bytes is kept beside
the partial file (``.<name>.<key>.meta``), and bytes the server cannot vouch
for are fetched again. The final length is checked against
``Content-Length`` / ``Content-Range``, and the file's leading bytes must be
media (the upload sniffer): an empty body or an error page is never the video.

Sources are tried in order: the output URL on the CDN origin (never with
the bearer token, API.md "GET /api/render/proxy/<id>/download"), then the
authenticated fallback route on the API origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from yarl import URL

from .. import errors
from .._http import ApiPath, Response, Transport
from .._util.logging import logger
from ..progress import OnProgress, call_back
from . import media_types as _media_types

CHUNK = 1024 * 1024
DownloadProgress = OnProgress[[int, "int | None"]]
"""``on_progress(bytes_on_disk, bytes_total)``; the total is ``None`` when the server hid it."""

# Failed attempts without a byte of progress allowed per source before the next one.
_STALLED_ATTEMPTS = 3
# Attempts per source in all, however much each one brought: a bound, whatever the server does.
_MAX_ATTEMPTS = 100
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class Source:
    """Where the file can be fetched: a full URL (unauthenticated) or an API path (bearer)."""

    label: str
    location: URL | ApiPath
    authenticated: bool


_NOT_MEDIA = frozenset(
    {"text/html", "text/plain", "text/xml", "application/json", "application/xml"}
)
"""Content types that are never a rendered file (an error page, an envelope)."""


class NotAContinuationError(Exception):
    """The answer does not continue the bytes already held; start again from byte zero."""


def ranged_get(
    transport: Transport, source: Source, have: int, validator: str | None = None
) -> contextlib.AbstractAsyncContextManager[Response]:
    """``GET`` of ``source`` from byte ``have`` on (``If-Range``: only if still ``validator``).

    Accepts the whole file (200) or the rest (206); ``announced_total`` tells them apart.
    """
    # identity: a compressed body would make Content-Length disagree with the bytes on disk.
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator is not None:
            headers["If-Range"] = validator
    return transport.stream(
        "GET",
        source.location,
        headers=headers,
        authenticated=source.authenticated,
        ok_statuses=frozenset({200, 206}),
    )


def announced_total(resp: Response, have: int, label: str) -> int | None:
    """The whole file's length as the answer announces it (``None``: not announced).

    Refuses an answer that is not the file (an error page, an envelope), and raises
    :class:`NotAContinuationError` for a 206 whose ``Content-Range`` does not start at
    ``have``; a 200 is the whole file from byte zero.
    """
    if resp.content_type in _NOT_MEDIA:
        # An error page or an API envelope must never become the user's video.
        raise errors.InvalidResponseError(
            f"{label} answered {resp.content_type}, not the rendered file", status=resp.status
        )
    if resp.status != 206:
        return resp.content_length
    match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
    if match is None or int(match[1]) != have:
        raise NotAContinuationError()
    return None if match[3] == "*" else int(match[3])


class _Short(errors.APIConnectionError):
    """The body ended before the length the server announced."""


def partial_path(target: Path, key: str) -> Path:
    """The partial file of ``target`` for the download identified by ``key``."""
    return target.with_name(f".{target.name}.{key}.part")


def _meta_path(part: Path) -> Path:
    # Beside the partial file, no longer a name than it (see check_name_fits).
    return part.with_name(part.name[: -len(".part")] + ".meta")


# A key as renders.new_render_id() makes them, for checks before the id exists.
_TYPICAL_KEY = "render_" + "0" * 32


def _name_max(directory: Path) -> int:
    folder = directory
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer
        return _MAX_NAME_BYTES


def check_name_fits(target: Path, key: str | None = None) -> None:
    """Refuse ``target`` when its partial file's name would exceed the filesystem's limit.

    ``key`` defaults to the length of a render id the SDK makes. Raises
    :class:`~nemo_sdk.errors.InvalidArgument` naming both lengths.
    """
    part = partial_path(target, key or _TYPICAL_KEY).name
    size, limit = len(os.fsencode(part)), _name_max(target.parent)
    if size > limit:
        room = limit - (size - len(os.fsencode(target.name)))
        raise errors.InvalidArgument(
            f"the file name {target.name!r} is too long: the partial file beside it needs "
            f"{size} bytes of name and the filesystem allows {limit}; keep the name under "
            f"{room + 1} bytes"
        )


def http_url(value: str | None) -> URL | None:
    """``value`` as a URL if it is absolute http(s); anything else (``file:``...) is refused."""
    if not value:
        return None
    try:
        url = URL(value)
    except (ValueError, TypeError):
        return None
    return url if url.scheme in ("http", "https") and url.host else None


_MAX_NAME_BYTES = 255  # the usual file-name limit (ext4, APFS, NTFS in UTF-16 units)


def safe_filename(name: object) -> str:
    """``name`` if it is one plain file name that stays inside a directory, else refuse it.

    Server-supplied names (``Content-Disposition``, the output URL's last segment)
    must not choose where a file lands: ``..``, ``.``, absolute paths, drive
    letters, ``/`` or ``\\`` separators, NUL and other control characters, hidden
    names (a leading ``.``, which our partial files use), empty names and names
    over 255 bytes raise :class:`~nemo_sdk.errors.UnsafeFilename`.
    """
    if not isinstance(name, str):
        kind = type(name).__name__
        raise errors.UnsafeFilename(f"refusing a file name of type {kind}", filename=repr(name))
    why: str | None = None
    if not name or not name.strip():
        why = "it is empty"
    elif name in (".", "..") or name.startswith(".."):
        why = "it points outside the directory"
    elif "/" in name or "\\" in name:
        why = "it holds a path separator"
    elif PureWindowsPath(name).drive or PurePosixPath(name).is_absolute():
        why = "it is an absolute path"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        why = "it holds NUL or another control character"
    elif name.startswith("."):
        why = "it is a hidden name"
    elif len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        why = f"it is longer than {_MAX_NAME_BYTES} bytes"
    if why is not None:
        raise errors.UnsafeFilename(f"refusing the file name {name!r}: {why}", filename=name)
    return name


def filename_from_disposition(value: str | None) -> str | None:
    """The ``filename`` (or RFC 6266 ``filename*``) of a ``Content-Disposition``, unchecked."""
    if not value:
        return None
    message = email.message.Message()
    message["Content-Disposition"] = value
    try:
        name = message.get_filename()
    except (ValueError, LookupError):  # a malformed RFC 2231 value or an unknown charset
        return None
    return name if isinstance(name, str) else None


def filename_from_url(url: URL | None) -> str | None:
    """The decoded last path segment of ``url`` (``None`` when it has none), unchecked."""
    return (url.name or None) if url is not None else None


async def probe_filename(transport: Transport, source: Source) -> str | None:
    """The file name ``source`` declares in ``Content-Disposition`` (``HEAD``), unchecked.

    ``None`` when the source did not answer or declared none; the download itself
    will find out what is wrong with a source that does not answer.
    """
    try:
        async with transport.stream(
            "HEAD", source.location, authenticated=source.authenticated,
            ok_statuses=frozenset({200}),
        ) as resp:  # fmt: skip
            return filename_from_disposition(resp.headers.get("Content-Disposition"))
    except errors.NemoError as exc:
        logger.info("could not ask %s for the file name (%s)", source.label, exc)
        return None


async def resolve_target(
    transport: Transport,
    sources: Sequence[Source],
    directory: Path,
    *,
    url: URL | None,
    default_name: str,
    key: str | None = None,
) -> Path:
    """The file in ``directory`` a download lands in, named by the server, safely.

    The name is the first source's ``Content-Disposition`` filename, else the
    output URL's last path segment, else ``default_name``; a server-supplied
    name that is not one plain file name raises ``UnsafeFilename``, before
    anything is written.
    """
    name: str | None = None
    for source in sources:
        name = await probe_filename(transport, source)
        if name is not None:
            break
    if name is None:
        name = filename_from_url(url)
    target = directory / safe_filename(name if name is not None else default_name)
    if not _stays_in(target, directory):
        raise errors.UnsafeFilename(
            f"refusing the file name {name!r}: it leads out of {directory}", filename=str(name)
        )
    try:
        check_name_fits(target, key)
    except errors.InvalidArgument as exc:
        raise errors.UnsafeFilename(
            f"refusing the server's file name: {exc}", filename=str(name)
        ) from None
    return target


def _stays_in(target: Path, directory: Path) -> bool:
    # Defence in depth: whatever the name checks missed (a symlink planted in the
    # directory, say), the file must land in the directory itself.
    return target.resolve().parent == directory.resolve()


async def _report(callback: DownloadProgress | None, done: int, total: int | None) -> None:
    if callback is not None:
        await call_back(callback, done, total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _Writer:
    """Write the partial file, getting it onto the disk while the download goes on.

    The file must be fsynced before it is renamed into place. Left to the end,
    that fsync writes the whole file after the last byte arrived; instead, each
    finished window of the file is handed to the kernel's writeback at once
    (``POSIX_FADV_DONTNEED`` on dirty pages starts their writeback and returns;
    the pages stay cached), so the disk works while the network does and the
    final fsync finds little left to do. Unlike a periodic ``fdatasync`` this
    neither waits for the disk nor commits the journal each time.

    Writes stay in the event loop: each is a copy into the page cache, and a
    thread hop per chunk measured slower than the copy.
    """

    WINDOW = 16 * CHUNK

    def __init__(self, path: Path, mode: str) -> None:
        # Unbuffered: chunks are already large, a buffer would only add a copy.
        self._fh = open(path, mode, buffering=0)  # noqa: SIM115 - closed by close()
        self._fd = self._fh.fileno()
        self._start = self._end = self._fh.seek(0, os.SEEK_END)
        self._advise = getattr(os, "posix_fadvise", None)

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:  # a regular file takes it all at once, but write() may say otherwise
            view = view[self._fh.write(view) or 0 :]
        self._end += len(chunk)
        if self._end - self._start >= self.WINDOW:
            self._start_writeback()

    def _start_writeback(self) -> None:
        if self._advise is not None:
            with contextlib.suppress(OSError):
                self._advise(self._fd, self._start, self._end - self._start, os.POSIX_FADV_DONTNEED)
        self._start = self._end

    async def finish(self) -> None:
        """Make the whole file durable."""
        await asyncio.to_thread(os.fsync, self._fd)

    def close(self) -> None:
        self._fh.close()


def _read_validator(meta: Path) -> str | None:
    try:
        value = json.loads(meta.read_text("utf-8")).get("if_range")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _keep_validator(meta: Path, headers: Any) -> str | None:
    """Store what the server will accept in ``If-Range`` for this body; ``None`` if nothing."""
    etag = headers.get("ETag")
    # RFC 9110 13.1.5: a weak entity tag never goes in If-Range; Last-Modified may.
    value = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
    if value:
        meta.write_text(json.dumps({"if_range": value}), "utf-8")
    else:
        meta.unlink(missing_ok=True)
    return value or None


def _restart(part: Path) -> None:
    # Truncate, never unlink: the lock is held on this inode (see exclusive).
    with contextlib.suppress(FileNotFoundError):
        os.truncate(part, 0)
    _meta_path(part).unlink(missing_ok=True)


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(_media_types.HEAD_BYTES)


async def _fetch(
    transport: Transport, source: Source, part: Path, on_progress: DownloadProgress | None
) -> None:
    meta = _meta_path(part)
    have = _size(part)
    validator = _read_validator(meta) if have else None
    if have and validator is None:
        _restart(part)  # nothing says these bytes are of the file the server has now
        have = 0
    try:
        async with ranged_get(transport, source, have, validator) as resp:
            total = announced_total(resp, have, source.label)
            if resp.status == 206:
                etag = resp.headers.get("ETag")
                if etag and validator and validator.startswith('"') and etag != validator:
                    raise NotAContinuationError()  # the server ignored If-Range: another file's
                mode = "ab"
                if not have:  # the first bytes: what vouches for them from now on
                    _keep_validator(meta, resp.headers)
            else:  # 200: the file changed, the server ignored the range, or there was none
                have, mode = 0, "wb"
                _keep_validator(meta, resp.headers)
            done = have
            writer = _Writer(part, mode)
            try:
                async for chunk in resp.iter_chunks(CHUNK):
                    writer.write(chunk)
                    done += len(chunk)
                    if on_progress is not None:
                        await _report(on_progress, done, total)
            finally:
                try:  # after a failure too: what is on disk is what a resume continues from
                    await writer.finish()
                finally:
                    writer.close()
    except errors.APIError as exc:
        if exc.status == 416:  # the range is past the file: what we hold is not a prefix of it
            raise NotAContinuationError() from exc
        raise
    if total is not None and done != total:
        raise _Short(f"{source.label}: got {done} of {total} bytes")
    # The length checks nothing when the server gave none (a close-delimited body), and
    # an empty or tiny body can carry a matching one: the file must at least be media.
    if _media_types.sniff(_head(part)) is None:
        _restart(part)
        raise errors.InvalidResponseError(
            f"{source.label} sent {done} bytes that are not a video file", status=200
        )


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
    _meta_path(part).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def adopt_placed(target: Path, key: str) -> bool:
    """Whether ``target`` is this download's own placed file; its leftovers are removed.

    A process killed after linking the partial file into place leaves both names on
    one inode: the file is complete at ``target`` and only the partial file (and its
    meta) remain to go. Any other file at ``target`` is not ours: ``False``.
    """
    part = partial_path(target, key)
    try:
        ours, placed = part.stat(), target.stat()
    except FileNotFoundError:
        return False
    if (ours.st_dev, ours.st_ino) != (placed.st_dev, placed.st_ino):
        return False
    part.unlink(missing_ok=True)
    _meta_path(part).unlink(missing_ok=True)
    return True


def is_media_file(path: Path) -> bool:
    """Whether ``path`` is a regular file whose leading bytes are media (the upload sniffer)."""
    try:
        return path.is_file() and _media_types.sniff(_head(path)) is not None
    except OSError:
        return False


def _prepare_target(target: Path, key: str, overwrite: bool) -> Path:
    if target.exists() and not overwrite:
        raise errors.file_exists(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return partial_path(target, key)


try:
    import fcntl
except ImportError:  # Windows: no advisory lock; two writers of one target are not kept apart
    fcntl = None  # type: ignore[assignment]


def _try_lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _is_at(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)


def job_lock_path(target: Path) -> Path:
    """The lock file of the workflow run writing ``target`` (``.<name>.job.lock``).

    Shorter than the partial file's name, so :func:`check_name_fits` covers it.
    """
    return target.with_name(f".{target.name}.job.lock")


@contextlib.asynccontextmanager
async def exclusive(part: Path, *, remove: bool = False) -> AsyncIterator[tuple[int, bool]]:
    """Hold the lock of ``part`` (one writer per partial file); yields ``(fd, waited)``.

    The lock is taken without blocking and polled, so that waiting never blocks the
    event loop and a cancel stops the wait at once. A lock won on a file that is no
    longer at ``part`` (the holder placed or removed it) guards nothing: take it again.
    The lock dies with its process (the OS drops it). With ``remove``, ``part`` is
    unlinked on the way out while still held (a lock file, not data): a waiter that
    then wins the old inode sees it gone and takes the lock of a new one.
    """
    waited = False
    delay = 0.01
    while True:
        fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while not _try_lock(fd):
                waited = True
                await asyncio.sleep(delay)
                delay = min(0.25, delay * 2)
            if _is_at(fd, part):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield fd, waited
    finally:
        try:
            if remove and _is_at(fd, part):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(part)
        finally:
            os.close(fd)  # releases the lock


async def download(
    transport: Transport,
    sources: Sequence[Source],
    target: Path,
    *,
    key: str,
    overwrite: bool = False,
    on_progress: DownloadProgress | None = None,
    on_placing: Callable[[], Awaitable[None]] | None = None,
) -> Path:
    """Fetch from the first source that works into ``target``; see the module docstring.

    ``on_placing`` is awaited once the whole file is on disk, just before it is put
    at ``target`` (the caller's record that the file there is this download's).
    """
    before = _identity(target)
    part = _prepare_target(target, key, overwrite)
    async with exclusive(part) as (fd, waited):
        placed = _identity(target)
        if waited and placed is not None and placed != before and not os.fstat(fd).st_size:
            # Another download of this key finished while this one waited: its file.
            part.unlink()  # ours, empty, made by exclusive; the lock is still held
            return target
        try:
            if not overwrite and placed is not None:
                raise errors.file_exists(target)
            return await _download_locked(
                transport, sources, target, part, overwrite, on_progress, on_placing
            )
        except BaseException:
            if _is_at(fd, part) and not os.fstat(fd).st_size:
                # Nothing to resume: leave no empty partial file behind.
                part.unlink()
                _meta_path(part).unlink(missing_ok=True)
            raise


async def _download_locked(
    transport: Transport,
    sources: Sequence[Source],
    target: Path,
    part: Path,
    overwrite: bool,
    on_progress: DownloadProgress | None,
    on_placing: Callable[[], Awaitable[None]] | None,
) -> Path:
    failures: list[str] = []
    last: BaseException | None = None
    for source in sources:
        stalled = attempts = 0
        # Progress is bytes past the most this source ever delivered: a server whose
        # every answer breaks at the end (a Content-Length that lies) restarts from
        # zero and re-sends the same bytes, which must not count as progress forever.
        best = _size(part)
        reason: object = "the answer could not be resumed"
        while stalled < _STALLED_ATTEMPTS and attempts < _MAX_ATTEMPTS:
            attempts += 1
            try:
                await _fetch(transport, source, part, on_progress)
            except NotAContinuationError:
                _restart(part)
                stalled += 1
                continue
            except (errors.APIConnectionError, errors.ServerError) as exc:
                last = reason = exc
                size = _size(part)
                stalled = 0 if size > best else stalled + 1
                best = max(best, size)
                logger.info("download from %s interrupted (%s); resuming", source.label, exc)
                continue
            except errors.NemoError as exc:
                last = reason = exc
                break
            if on_placing is not None:
                await on_placing()
            _place(part, target, overwrite)
            return target
        failures.append(f"{source.label}: {reason}")
        logger.warning("download from %s failed: %s", source.label, reason)
    raise errors.DownloadError(
        f"could not download to {target}: " + "; ".join(failures or ["no source"])
    ) from last
