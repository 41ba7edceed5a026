"""Pydantic wire models. Models never do I/O.

Each name is imported on first use (PEP 562), like the package's own: a program that
only reads its credits defines the credits model, not the draft and chat ones. The one
list of names is ``_EXPORTS``; ``python scripts/lazy_exports.py`` writes the
``TYPE_CHECKING`` imports from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_EXPORTS: dict[str, str] = {  # name -> the module that defines it
    "AnonymousToken": ".session",
    "CanvasConfig": ".state",
    "ClaimLink": ".session",
    "Credits": ".credits",
    "Draft": ".draft",
    "PendingRender": ".render",
    "RenderJob": ".render",
    "RenderStatus": ".render",
    "Segment": ".draft",
    "Session": ".session",
    "SessionState": ".state",
    "Track": ".draft",
    "TrackType": ".draft",
    "UploadedFile": ".upload",
    "WireModel": ".draft",
}

if TYPE_CHECKING:
    from .credits import Credits as Credits
    from .draft import Draft as Draft
    from .draft import Segment as Segment
    from .draft import Track as Track
    from .draft import TrackType as TrackType
    from .draft import WireModel as WireModel
    from .render import PendingRender as PendingRender
    from .render import RenderJob as RenderJob
    from .render import RenderStatus as RenderStatus
    from .session import AnonymousToken as AnonymousToken
    from .session import ClaimLink as ClaimLink
    from .session import Session as Session
    from .state import CanvasConfig as CanvasConfig
    from .state import SessionState as SessionState
    from .upload import UploadedFile as UploadedFile

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = attach(__name__, _EXPORTS)
