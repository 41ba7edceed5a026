"""Which media type a file's leading bytes announce, for the check before an upload.

API.md ("POST /api/upload-video"): accepted are mp4 mov avi webm mkv, jpg png
gif webp, mp3 wav m4a aac. A file is refused before any byte is sent when its
extension is not one of those or its content is not media at all (a ``.mp4``
that is a text file). Pure code: the caller reads the bytes.
"""

from __future__ import annotations

HEAD_BYTES = 64
"""How many leading bytes :func:`sniff` needs."""

# ISO base media boxes that may open an MP4/MOV/M4A file (QuickTime files
# written without ``ftyp`` start with one of the others).
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")

CONTENT_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}
"""The MIME type sent with each accepted extension."""

_ALIASES = {"jpeg": "jpg"}


def extension_of(filename: str) -> str:
    """The lower-case extension without the dot (``jpeg`` read as ``jpg``); ``""`` if none."""
    name = filename.rsplit("/", 1)[-1]
    if "." not in name:
        return ""
    ext = name.rsplit(".", 1)[1].lower()
    return _ALIASES.get(ext, ext)


def sniff(head: bytes) -> str | None:
    """The container the leading bytes announce, named by its usual extension.

    ``mp4`` stands for the whole ISO family (mp4, mov, m4a) and ``mkv`` for
    Matroska (mkv, webm); ``None`` when the bytes are no media we accept.
    """
    if len(head) >= 8 and head[4:8] in _ISO_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "mkv"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"AVI ": "avi", b"WAVE": "wav", b"WEBP": "webp"}.get(head[8:12])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"ID3"):
        return "mp3"  # an ID3 tag may also open an ADTS stream; both are audio we accept
    if head.startswith(b"ADIF"):
        return "aac"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word, layer 0
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame sync, layer I-III
            return "mp3"
    return None
