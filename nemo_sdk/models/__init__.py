"""Pydantic wire models. Models never do I/O."""

from .credits import Credits
from .draft import Draft, Segment, Track, TrackType, WireModel
from .render import PendingRender, RenderJob, RenderStatus
from .session import AnonymousToken, ClaimLink, Session
from .state import CanvasConfig, SessionState
from .upload import UploadedFile

__all__ = [
    "AnonymousToken",
    "CanvasConfig",
    "ClaimLink",
    "Credits",
    "Draft",
    "PendingRender",
    "RenderJob",
    "RenderStatus",
    "Segment",
    "Session",
    "SessionState",
    "Track",
    "TrackType",
    "UploadedFile",
    "WireModel",
]
