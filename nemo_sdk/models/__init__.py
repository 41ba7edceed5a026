"""Pydantic wire models. Models never do I/O."""

from .credits import Credits
from .draft import Draft, Segment, Track, TrackType, WireModel
from .session import AnonymousToken, ClaimLink, Session
from .state import CanvasConfig, SessionState

__all__ = [
    "AnonymousToken",
    "CanvasConfig",
    "ClaimLink",
    "Credits",
    "Draft",
    "Segment",
    "Session",
    "SessionState",
    "Track",
    "TrackType",
    "WireModel",
]
