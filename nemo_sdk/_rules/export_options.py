"""The export's ``format`` and ``quality``: the values the render endpoint takes, checked
before anything is sent (a workflow checks them before it generates)."""

from __future__ import annotations

from typing import Literal, get_args

from .. import errors

__all__ = ["EXPORT_FORMATS", "EXPORT_QUALITIES", "ExportFormat", "ExportQuality", "check_output"]

ExportFormat = Literal["mp4", "mov", "mkv", "webm", "gif"]
"""An export's container."""
ExportQuality = Literal["low", "medium", "high"]
"""An export's quality."""

EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
EXPORT_QUALITIES: tuple[str, ...] = get_args(ExportQuality)


def check_output(format: str, quality: str) -> None:
    """Raise :class:`~nemo_sdk.errors.InvalidArgumentError` for a format or quality not taken."""
    if format not in EXPORT_FORMATS:
        raise errors.InvalidArgumentError(
            f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}"
        )
    if quality not in EXPORT_QUALITIES:
        raise errors.InvalidArgumentError(
            f"quality must be one of {', '.join(EXPORT_QUALITIES)}, got {quality!r}"
        )
