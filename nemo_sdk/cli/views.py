"""Results as people read them (rich tables) and as scripts read them (JSON-ready dicts)."""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table
from rich.text import Text

from ..models.credits import Credits
from ..models.draft import Draft, Track
from ..models.render import PendingRender, RenderJob
from ..models.state import SessionState
from ..models.upload import UploadedFile
from ..timeline import format_segment, format_timeline, track_words

__all__ = [
    "credits_doc",
    "job_doc",
    "pending_doc",
    "pending_table",
    "state_doc",
    "timeline_table",
    "track_type_name",
    "uploads_doc",
    "uploads_table",
]


def _add_row(table: Table, *cells: str) -> None:
    # Plain Text: a title or a file name "[Intro]" is content, not rich markup.
    table.add_row(*(Text(cell) for cell in cells))


def track_type_name(track: Track) -> str:
    """``video``, ``audio (BGM)``, ``text``, or ``type <n>`` for types the SDK does not know."""
    return track_words(track).type_name


def _seconds(ms: float) -> float:
    return round(ms / 1000, 3)


def _span_text(start_ms: float, end_ms: float) -> str:
    return f"{_seconds(start_ms):g}-{_seconds(end_ms):g}s"


def _track_row(index: int, track: Track) -> dict[str, Any]:
    spans = track.segment_spans()
    start = min((s for s, _ in spans), default=0)
    end = max((e for _, e in spans), default=0)
    return {
        "index": index,
        "type": track_type_name(track),
        "tt": None if track.track_type is None else int(track.track_type),
        "segments": len(track.segments),
        "start": _seconds(start),
        "end": _seconds(end),
        "details": [
            format_segment(seg, track, span)
            for seg, span in zip(track.segments, spans, strict=True)
        ],
    }


def timeline_table(draft: Draft | None) -> Table:
    """The timeline as a table: track #, type, segments, start-end, details."""
    table = Table(title="Timeline", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("type")
    table.add_column("segments", justify="right")
    table.add_column("start-end")
    table.add_column("details", overflow="fold")
    for index, track in enumerate(draft.tracks if draft is not None else [], 1):
        row = _track_row(index, track)
        _add_row(
            table,
            str(index),
            row["type"],
            str(row["segments"]),
            _span_text(row["start"] * 1000, row["end"] * 1000) if row["segments"] else "-",
            ", ".join(row["details"]) or "(empty)",
        )
    return table


def state_doc(session_id: str, state: SessionState) -> dict[str, Any]:
    """``nemo --json state``: the tracks, the one-line timeline, the canvas, the raw draft."""
    draft = state.draft
    canvas = state.canvas_config
    return {
        "session_id": session_id,
        "timeline": format_timeline(draft),
        "exportable": bool(draft is not None and draft.is_exportable),
        "duration": _seconds(draft.end_ms) if draft is not None else 0,
        "tracks": [
            _track_row(i, t) for i, t in enumerate(draft.tracks if draft is not None else [], 1)
        ],
        "canvas": canvas.model_dump(mode="json") if canvas is not None else None,
        "draft": draft.to_wire() if draft is not None else None,
    }


def credits_doc(credits: Credits) -> dict[str, Any]:
    """``nemo --json credits``."""
    total = credits.total if credits.total is not None else credits.available + credits.frozen
    return {"available": credits.available, "frozen": credits.frozen, "total": total}


def job_doc(job: RenderJob) -> dict[str, Any]:
    """A render job for ``--json``."""
    return {
        "render_id": job.id,
        "status": job.status,
        "progress": job.progress,
        "output_url": job.output_url,
        "error": job.error,
    }


def pending_doc(pending: list[PendingRender]) -> dict[str, Any]:
    """``nemo --json renders pending``."""
    return {"pending": [p.model_dump(mode="json") for p in pending]}


def _age(since: float) -> str:
    seconds = max(0, int(time.time() - since))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def pending_table(pending: list[PendingRender]) -> Table:
    """The render journal: exports not downloaded yet."""
    table = Table(title="Pending renders", title_justify="left")
    for name in ("render id", "session", "status", "download to", "age"):
        table.add_column(name, overflow="fold")
    for p in pending:
        _add_row(table, p.render_id, p.session_id, p.status, p.path or "-", _age(p.created_at))
    return table


def uploads_doc(session_id: str, files: list[UploadedFile]) -> dict[str, Any]:
    """``nemo --json upload``."""
    return {"session_id": session_id, "files": [f.to_wire() for f in files]}


def uploads_table(files: list[UploadedFile]) -> Table:
    """The uploaded files as the service described them."""
    table = Table(title="Uploaded", title_justify="left")
    for name in ("file", "type", "duration", "size", "url"):
        table.add_column(name, overflow="fold")
    for f in files:
        size = f"{f.width}x{f.height}" if f.width and f.height else "-"
        duration = f"{f.duration:g} s" if f.duration else "-"
        _add_row(table, f.filename or "?", f.file_type or "?", duration, size, f.cdn_url or "-")
    return table
