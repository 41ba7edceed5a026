"""Render jobs: the export, poll and cancel answers, in every documented shape.

API.md, "GET /api/render/proxy/lambda/<id>": ``status`` sits under ``data``
in one document and at the top level in v1.9; the download URL is
``data.outputUrl`` or ``data.output.url``; early versions said ``taskId``.
All of these are read; a status outside the documented set is an error, so
a poller can never loop forever on a state it does not understand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..errors import InvalidResponseError, UnknownRenderStatusError

__all__ = ["RENDER_STATUSES", "PendingRender", "RenderJob", "RenderStatus"]

RenderStatus = Literal["pending", "processing", "completed", "failed", "cancelled"]
RENDER_STATUSES: tuple[str, ...] = ("pending", "processing", "completed", "failed", "cancelled")
"""Statuses the SDK understands (``cancelled`` is not documented; read defensively)."""

_SPELLINGS = {"canceled": "cancelled"}


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _error_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        message = value.get("message")
        return str(message) if message else str(dict(value))
    return None if value is None else str(value)


class RenderJob(BaseModel):
    """A render job's state; rebuild it any time with ``nemo.renders.get(id)``.

    Attributes:
        id: the render id (``render_...``); all that is needed to resume.
        status: ``pending``, ``processing``, ``completed`` or ``failed``
            (``cancelled`` if a service ever says so).
        progress: 0-100, when the service said.
        output_url: where the finished file is served (a CDN origin).
        error: the service's error text, for a failed job.
        created_at, completed_at: as the service wrote them.
        raw: the answer this was read from.
    """

    model_config = ConfigDict(frozen=True, defer_build=True, hide_input_in_errors=True)

    id: str
    status: RenderStatus
    progress: float | None = None
    output_url: str | None = None
    error: str | None = None
    created_at: Any = None
    completed_at: Any = None
    raw: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        """True once the job will not change any more."""
        return self.status in ("completed", "failed", "cancelled")

    @property
    def succeeded(self) -> bool:
        """True when the file is ready to download."""
        return self.status == "completed"

    @classmethod
    def from_api(cls, doc: Mapping[str, Any], *, render_id: str) -> RenderJob:
        """Read a render answer (the whole envelope), whichever documented shape it has."""
        data = doc.get("data")
        data = data if isinstance(data, Mapping) else {}
        status = _first(data.get("status"), doc.get("status"))
        if not isinstance(status, str) or not status:
            raise InvalidResponseError(f"render {render_id}: the answer had no status")
        normal = _SPELLINGS.get(status.strip().lower(), status.strip().lower())
        if normal not in RENDER_STATUSES:
            raise UnknownRenderStatusError(
                f"render {render_id}: unknown status {status!r} "
                f"(known: {', '.join(RENDER_STATUSES)})",
                render_id=render_id,
                status_value=status,
            )
        output = _first(data.get("output"), doc.get("output"))
        nested_url = output.get("url") if isinstance(output, Mapping) else None
        url = _first(
            data.get("outputUrl"), data.get("output_url"), nested_url,
            doc.get("outputUrl"), doc.get("output_url"),
        )  # fmt: skip
        progress = _first(data.get("progress"), doc.get("progress"))
        if isinstance(progress, bool) or not isinstance(progress, int | float | str):
            progress = None
        try:
            progress_value = None if progress is None else float(progress)
        except ValueError:
            progress_value = None  # a word where a number belongs: progress unknown
        except OverflowError:  # an integer too large for a float (400 digits)
            raise InvalidResponseError(
                f"render {render_id}: progress {str(progress)[:20]}... is not a percentage"
            ) from None
        if progress_value is not None and not math.isfinite(progress_value):
            raise InvalidResponseError(f"render {render_id}: progress {progress!r} is not finite")
        job_id = _first(data.get("id"), data.get("taskId"), doc.get("id"), doc.get("taskId"))
        return cls(
            id=str(job_id or render_id),
            status=normal,  # checked against RENDER_STATUSES above
            progress=progress_value,
            output_url=str(url) if url else None,
            error=_error_text(_first(data.get("error"), doc.get("error"))),
            created_at=_first(data.get("createdAt"), doc.get("createdAt")),
            completed_at=_first(data.get("completedAt"), doc.get("completedAt")),
            raw=dict(doc),
        )


class PendingRender(BaseModel):
    """An export the job journal holds: submitted, not yet downloaded.

    Attributes:
        render_id: pass it to ``nemo.renders.wait`` / ``download`` to resume.
        session_id: the session the render came from.
        status: the last status seen (``submitting`` until the service answered,
            ``placing`` once the whole file is on disk and being put at ``path``).
        output_url: the output URL, once known.
        path: the download target (absolute), from the export's ``download_to`` or
            once a download started.
        created_at, updated_at: Unix times.
    """

    model_config = ConfigDict(frozen=True, defer_build=True, hide_input_in_errors=True)

    render_id: str
    session_id: str
    status: str
    output_url: str | None = None
    path: str | None = None
    created_at: float
    updated_at: float
