"""Limits of the wire contract: what the upload endpoint accepts (API.md, "POST /api/upload-video").

No imports on purpose: :mod:`nemo_sdk.errors` reads these while the models package
(whose draft model raises its errors) may still be loading, and the emulator reads them
without loading a single model.
"""

from __future__ import annotations

__all__ = ["ACCEPTED_FORMATS", "MAX_UPLOAD_BYTES"]

ACCEPTED_FORMATS: tuple[str, ...] = (
    "mp4", "mov", "avi", "webm", "mkv",
    "jpg", "png", "gif", "webp",
    "mp3", "wav", "m4a", "aac",
)  # fmt: skip
"""File extensions the upload endpoint accepts (API.md, "POST /api/upload-video")."""

MAX_UPLOAD_BYTES = 500 * 1024 * 1024
"""Largest file the upload endpoint accepts: 500 MB."""
