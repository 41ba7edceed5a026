"""What the emulator keeps of requests, renders and chat turns (tests assert on these)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multidict import CIMultiDict

__all__ = ["ChatTurn", "RecordedRequest", "RenderRecord"]


@dataclass(frozen=True)
class RecordedRequest:
    """What the emulator saw of one request (tests assert on these)."""

    origin: str
    method: str
    path: str
    route: str
    headers: CIMultiDict[str]


@dataclass
class ChatTurn:
    """What the emulator saw of one chat turn (tests assert on these)."""

    session_id: str
    message: str
    tool: str | None
    completed: bool = False  # the whole reply was written
    dropped: bool = False  # a ``drop`` fault cut it
    disconnected: bool = False  # a write failed: the client had gone
    failed: str | None = None  # the error code a ``turn_error`` fault reported


@dataclass
class RenderRecord:
    """One render job as the emulator keeps it."""

    id: str
    user_id: str
    session_id: str
    draft: dict[str, Any]
    format: str = "mp4"
    quality: str = "high"
    width: int | None = None
    height: int | None = None
    fps: int = 30
    status: str = "pending"
    progress: float = 0.0
    error: str | None = None
    path: Path | None = None
    output_url: str | None = None
    created_at: float = field(default_factory=time.time)
    completed_at: float | None = None
    polls: int = 0
    cancel_requested: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def answer(self, shape: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(data, top-level fields)`` of a poll answer in ``shape`` (``data``/``top``)."""
        data: dict[str, Any] = {"id": self.id, "progress": round(self.progress, 1)}
        top: dict[str, Any] = {}
        data["createdAt"] = _iso(self.created_at)
        if self.completed_at is not None:
            data["completedAt"] = _iso(self.completed_at)
        if shape == "top":
            top["status"] = self.status
            data["taskId"] = self.id
            if self.output_url:
                data["output"] = {"url": self.output_url, "format": self.format}
            if self.error:
                top["error"] = self.error
        else:
            data["status"] = self.status
            if self.output_url:
                data["outputUrl"] = self.output_url
            if self.error:
                data["error"] = self.error
        return data, top


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
