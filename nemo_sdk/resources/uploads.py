"""``nemo.uploads``: put media into a session (API.md, "POST /api/upload-video").

Every file is checked before any byte is sent: it exists and is readable,
its extension is accepted, its leading bytes are media, and it is at most
500 MB. The body is streamed, never read whole into memory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, TypeAlias

import attrs
from yarl import URL

from .. import errors
from .._files.media_types import CONTENT_TYPES, HEAD_BYTES, extension_of, sniff
from .._http import check_id
from .._http.envelope import data_of, reading
from .._http.multipart import FilePart, UploadProgress, multipart_body
from .._http.response_info import attach
from ..models.upload import UploadedFile
from ._base import Resource

BinaryData: TypeAlias = "bytes | bytearray | memoryview"
UploadSource: TypeAlias = (
    "str | os.PathLike[str] | BinaryData | IO[bytes] | tuple[str, BinaryData | IO[bytes]]"
)
"""A path, bytes, a binary file object, or ``(filename, bytes or file object)``."""


def _refuse_type(name: str, why: str) -> errors.UnsupportedFileType:
    return errors.UnsupportedFileType(
        f"{name}: {why}; accepted formats: {', '.join(errors.ACCEPTED_FORMATS)}", filename=name
    )


def _check(name: str, size: int, head: bytes) -> tuple[str, str]:
    """The part's name and content type, or the error API.md's 4001/4002 would have given.

    A name without an extension gets the one its bytes announce (``clip`` that is an
    MP4 is sent as ``clip.mp4``): the service goes by the extension.
    """
    ext = extension_of(name)
    if not ext and (sniffed := sniff(head)) is not None:
        name, ext = f"{name}.{sniffed}", sniffed
    if ext not in errors.ACCEPTED_FORMATS:
        raise _refuse_type(name, f"extension {ext or '(none)'!r} is not accepted")
    if size > errors.MAX_UPLOAD_BYTES:
        raise errors.FileTooLarge(
            f"{name}: {size} bytes is over the {errors.MAX_UPLOAD_BYTES // 2**20} MB limit",
            size=size,
            filename=name,
        )
    if sniff(head) is None:
        raise _refuse_type(name, "the content is not a video, image or audio file")
    return name, CONTENT_TYPES[ext]


def _from_path(path: Path) -> FilePart:
    with open(path, "rb") as fh:  # FileNotFoundError / PermissionError / IsADirectoryError
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(HEAD_BYTES)
    name, content_type = _check(path.name, size, head)

    def opener() -> tuple[IO[bytes], bool]:
        return open(path, "rb"), True

    return FilePart(name, size, content_type, opener)


def _from_bytes(data: BinaryData, name: str | None, index: int) -> FilePart:
    view = memoryview(data).cast("B")
    head = bytes(view[:HEAD_BYTES])
    name = name or f"upload-{index}.{sniff(head) or 'bin'}"
    name, content_type = _check(name, len(view), head)

    def opener() -> tuple[IO[bytes], bool]:
        return io.BytesIO(view), True

    return FilePart(name, len(view), content_type, opener)


def _from_stream(stream: IO[bytes], name: str | None, index: int) -> FilePart:
    if not (hasattr(stream, "seekable") and stream.seekable()):
        # Size and content must be known before sending (API.md: checked client-side).
        raise errors.InvalidArgument("file objects must be seekable (open the file in 'rb' mode)")
    start = stream.tell()
    size = stream.seek(0, os.SEEK_END) - start
    stream.seek(start)
    head = stream.read(HEAD_BYTES)
    stream.seek(start)
    if not isinstance(head, bytes):
        raise errors.InvalidArgument("file objects must be binary (open the file in 'rb' mode)")
    if name is None:
        given = getattr(stream, "name", None)
        name = os.path.basename(given) if isinstance(given, str) else None
    name = name or f"upload-{index}.{sniff(head) or 'bin'}"
    name, content_type = _check(name, size, head)

    def opener() -> tuple[IO[bytes], bool]:
        stream.seek(start)  # a retried request starts the part again
        return stream, False

    return FilePart(name, size, content_type, opener)


def prepare(source: UploadSource, index: int = 0) -> FilePart:
    """Check one upload source and describe how to stream it (nothing is sent)."""
    name: str | None = None
    value: Any = source
    if isinstance(source, tuple):
        name, value = source
        if not isinstance(name, str) or not name:
            raise errors.InvalidArgument("a (filename, data) pair needs a non-empty filename")
    if isinstance(value, str | os.PathLike):
        return _from_path(Path(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return _from_bytes(value, name, index)
    if hasattr(value, "read"):
        return _from_stream(value, name, index)
    raise errors.InvalidArgument(f"cannot upload a {type(value).__name__}")


class Uploads(Resource):
    """Upload calls."""

    async def upload(
        self,
        session_id: str,
        files: UploadSource | Sequence[UploadSource],
        *,
        on_progress: UploadProgress | None = None,
    ) -> list[UploadedFile]:
        """Upload one or more files in one multipart request.

        Args:
            session_id: the session that receives the media.
            files: paths, bytes, binary file objects or ``(filename, data)`` pairs.
            on_progress: ``on_progress(bytes_sent, bytes_total)`` after each chunk
                (sync or async); a retried request counts from zero again.

        Raises:
            FileNotFoundError: a path does not exist (nothing was sent).
            UnsupportedFileType: an extension or a content is not accepted (nothing was sent).
            FileTooLarge: a file is over 500 MB (nothing was sent).
        """
        sid = check_id("session id", session_id)
        many: list[Any] = (
            list(files)
            if isinstance(files, Sequence)
            and not isinstance(files, str | bytes | bytearray | memoryview | tuple)
            else [files]
        )
        if not many:
            raise errors.InvalidArgument("no files to upload")
        parts = [prepare(source, i) for i, source in enumerate(many)]
        t = self._transport
        doc, info = await t.answer(
            "POST",
            ("api", "upload-video", "nemo_agent", "me", sid),
            data=lambda: multipart_body(parts, on_progress),
            idempotent=False,
            # A 500 MB upload outlasts any total timeout; the read-idle limit still applies.
            timeout=attrs.evolve(t.config.timeouts, total=None),
        )
        return attach(_files_of(doc), info)

    async def upload_urls(self, session_id: str, urls: str | Sequence[str]) -> list[UploadedFile]:
        """Have the service fetch media from http(s) URLs into the session."""
        sid = check_id("session id", session_id)
        listed = [urls] if isinstance(urls, str) else list(urls)
        if not listed:
            raise errors.InvalidArgument("no URLs to upload")
        for url in listed:
            parsed = URL(url) if isinstance(url, str) else None
            if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
                raise errors.InvalidArgument(f"not an http(s) URL: {url!r}")
        doc, info = await self._transport.answer(
            "POST",
            ("api", "upload-video", "nemo_agent", "me", sid),
            json={"urls": listed, "source_type": "url"},
            idempotent=False,
        )
        return attach(_files_of(doc), info)


def _files_of(doc: dict[str, Any]) -> list[UploadedFile]:
    with reading("upload"):
        files = data_of(doc).get("files")
        if not isinstance(files, list):
            raise errors.InvalidResponseError("the upload answer had no files list")
        return [UploadedFile.model_validate(f) for f in files if isinstance(f, dict)]
