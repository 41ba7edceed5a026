"""Upload answers: ``POST /api/upload-video/nemo_agent/me/<sid>`` -> ``data.files[]``."""

from __future__ import annotations

from .draft import WireModel
from .limits import ACCEPTED_FORMATS, MAX_UPLOAD_BYTES

__all__ = ["ACCEPTED_FORMATS", "MAX_UPLOAD_BYTES", "UploadedFile"]


class UploadedFile(WireModel):
    """One stored file, as the service describes it (unknown fields are kept).

    Attributes:
        filename: the name the service stored.
        file_type: ``video``, ``image`` or ``audio``.
        cdn_url: where the service serves the file (use it in a draft's ``m.url``).
        duration: seconds (0 for images).
        width, height: pixels, for video and images.
        fps: frames per second, for video.
        hash: the service's content hash.
    """

    filename: str | None = None
    file_type: str | None = None
    cdn_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hash: str | None = None
