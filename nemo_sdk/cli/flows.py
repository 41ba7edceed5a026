"""The steps several commands share, each with its progress bar: upload, export, wait, download."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import errors
from .._rules.export_options import ExportFormat, ExportQuality
from ..client import NemoClient
from ..models.render import RenderJob
from ..models.upload import UploadedFile
from .bars import Bars
from .runtime import Tracker

__all__ = ["check_target", "download_render", "export_session", "upload_files", "wait_render"]


def check_target(path: str | Path, overwrite: bool, *, directory_ok: bool = False) -> Path:
    """``path`` if a video may be saved there; checked before a render is started for it.

    ``directory_ok``: a directory is fine too (the server then names the file).
    """
    target = Path(path)
    if target.is_dir():
        if directory_ok:
            return target
        raise IsADirectoryError(f"{target} is a directory; give a file path for the video")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent} does not exist")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    return target


async def upload_files(
    nemo: NemoClient, session_id: str, files: Sequence[Path], bars: Bars
) -> list[UploadedFile]:
    """Upload ``files`` into the session in one request, with a byte bar."""
    step = f"upload {len(files)} file{'s' if len(files) != 1 else ''}"

    def progress(sent: int, total: int) -> None:
        bars.update(step, sent, total, unit="bytes")

    uploaded = await nemo.uploads.upload(session_id, list(files), on_progress=progress)
    bars.finish(step)
    return uploaded


async def wait_render(
    nemo: NemoClient, render_id: str, bars: Bars, *, timeout: float | None = None
) -> RenderJob:
    """Wait for the render, with a percent bar."""
    step = "render"

    def progress(job: RenderJob) -> None:
        bars.update(step, job.progress if job.progress is not None else None)

    job = await nemo.renders.wait(render_id, timeout=timeout, on_progress=progress)
    bars.finish(step)
    return job


async def download_render(
    nemo: NemoClient,
    render_id: str,
    target: Path,
    bars: Bars,
    tracker: Tracker,
    *,
    overwrite: bool = False,
) -> Path:
    """Download the finished render to ``target`` (a resumable ``.part`` until complete)."""
    tracker.render_id, tracker.target = render_id, target
    step = "download"

    def progress(done: int, total: int | None) -> None:
        bars.update(step, done, total, unit="bytes")

    path = await nemo.renders.download(render_id, target, overwrite=overwrite, on_progress=progress)
    bars.finish(step)
    return path


async def export_session(
    nemo: NemoClient,
    session_id: str,
    target: Path,
    bars: Bars,
    tracker: Tracker,
    *,
    overwrite: bool = False,
    format: ExportFormat = "mp4",
    quality: ExportQuality = "high",
) -> tuple[RenderJob, Path]:
    """Export the session's current draft, wait for the render, download it to ``target``."""
    tracker.session_id, tracker.target = session_id, target
    state = await nemo.state.get(session_id)
    if state.draft is None or not state.draft.is_exportable:
        raise errors.DraftNotExportableError(
            f"session {session_id} has nothing on its timeline yet; ask the agent to "
            "generate or edit something first"
        )
    job = await nemo.renders.export(session_id, state.draft, format=format, quality=quality)
    tracker.render_id = job.id
    bars.note(f"render {job.id} started")
    job = await wait_render(nemo, job.id, bars)
    path = await download_render(nemo, job.id, target, bars, tracker, overwrite=overwrite)
    return job, path
