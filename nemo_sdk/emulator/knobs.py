"""The emulator's settings that routes read at each request (costs, pacing, speed, shapes)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Knobs"]


@dataclass(frozen=True)
class Knobs:
    """The emulator's settings that later routes read (costs, pacing, speed)."""

    generation_cost: int = 100
    edit_cost: int = 50
    render_seconds: float = 1.0
    sse_delay: float = 0.0
    no_text_rate: float = 0.3
    require_attribution: bool = True
    event_shape: str = "adk"
    poll_shape: str = "alternate"
    # The chat agent (routes_chat): generated clip size, keep-alive pacing, slowness, noise.
    clip_seconds: float = 1.0
    clip_width: int = 320
    clip_height: int = 180
    clip_fps: int = 12
    heartbeat_every: float = 0.5
    think_seconds: float = 0.0
    temporary_issue_rate: float = 0.0
    # The ADK event shape (routes_chat): google-adk 2.x's streams, see tests/adk/captures.
    adk_streaming: bool = False
    adk_keepalives: bool = True
    thoughts: bool = False
    text_with_call: bool = False
    actions_events: bool = False
    # Files: a Content-Disposition header template for served files ({name}: the file's name).
    content_disposition: str | None = None
    # Renders that run at once (each in a worker thread); the others wait their turn.
    render_slots: int = 2
    # The status the export answer names ("queued" plays a service outside the contract).
    export_status: str = "pending"
