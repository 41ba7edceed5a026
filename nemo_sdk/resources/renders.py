"""``nemo.renders``: export a draft, wait for it, cancel it, download the file.

API.md, "POST /api/render/proxy/lambda" and the routes after it. The render
id is the handle: ``wait``, ``cancel`` and ``download`` need nothing else,
so a job survives the process that started it. Exports are written to the
job journal before they are sent and removed once downloaded, failed or
cancelled; ``pending()`` lists what is left.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import _download, errors
from .._export_options import ExportFormat, ExportQuality, check_output
from .._journal import Journal
from .._logging import logger
from .._poll_schedule import PollSchedule
from .._transport import Transport, check_id
from ..models.draft import Draft
from ..models.render import PendingRender, RenderJob
from ._base import Resource
from .state import StateResource

RenderProgress = Callable[[RenderJob], Any]
"""``on_progress(job)`` whenever the status or progress changed; may be sync or async."""

_EXPORT_PATH = "/api/render/proxy/lambda"
# The answer to these is final: a second submit would meet the same refusal.
_FINAL = (
    errors.ExportBlocked,
    errors.SessionNotFoundError,
    errors.AuthenticationError,
    errors.InsufficientCreditsError,
    errors.RateLimitError,
    errors.MissingClientIdError,
)


# Failures that say nothing about the render itself: the answer was lost or garbled.
_TRANSIENT = (errors.APIConnectionError, errors.ServerError, errors.InvalidResponseError)
# Journal statuses of an export the service never acknowledged.
_UNCONFIRMED = "unconfirmed"
_NEVER_ACKNOWLEDGED = ("submitting", _UNCONFIRMED)


class _Unresolved(Exception):
    """A submit's answer was lost and the look-up of its id failed too."""

    def __init__(self, error: errors.NemoError, lookup: errors.NemoError) -> None:
        super().__init__(str(error))
        self.error = error
        self.lookup = lookup


def new_render_id() -> str:
    """A fresh ``render_<unique>`` id (API.md: the client names the render)."""
    return f"render_{uuid.uuid4().hex}"


def _exists(path: Path) -> bool:
    return path.exists()


def _is_dir(path: Path) -> bool:
    return path.is_dir()


async def _call(callback: RenderProgress | None, job: RenderJob) -> None:
    if callback is not None:
        result = callback(job)
        if inspect.isawaitable(result):
            await result


class Renders(Resource):
    """Render (export) calls. ``journal`` is ``None`` when the job journal is off."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        path = transport.config.journal_path
        self.journal: Journal | None = Journal(path) if path is not None else None
        self._state = StateResource(transport)

    # ------------------------------------------------------------------ export

    async def export(
        self,
        session_id: str,
        draft: Draft | Mapping[str, Any] | None = None,
        *,
        format: ExportFormat = "mp4",
        quality: ExportQuality = "high",
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> RenderJob:
        """Start rendering ``draft`` (default: the session's latest draft); free of credits.

        Raises:
            InvalidArgument: ``format`` or ``quality`` is not one the API takes
                (mp4/mov/mkv/webm/gif; low/medium/high; nothing sent).
            InvalidDraft: ``draft`` is not in the timeline format (nothing sent).
            DraftNotExportable: no tracks, or every track's ``sg`` is empty (nothing sent).
            ExportBlocked: HTTP 402, the plan or the token cannot export (never retried).
        """
        sid = check_id("session id", session_id)
        check_output(format, quality)
        if draft is None:
            draft = (await self._state.get(sid)).draft
        parsed = draft if isinstance(draft, Draft) or draft is None else Draft.from_wire(draft)
        if parsed is None or not parsed.is_exportable:
            raise errors.DraftNotExportable(
                "the draft has no track with a segment; generate or edit something first"
            )
        output: dict[str, Any] = {"format": format, "quality": quality}
        for key, value in (("width", width), ("height", height), ("fps", fps)):
            if value is not None:
                output[key] = value
        wire = parsed.to_wire()

        def body(render_id: str) -> dict[str, Any]:
            return {"id": render_id, "sessionId": sid, "draft": wire, "output": output}

        render_id = new_render_id()
        self._record(render_id, sid)
        try:
            job = await self._submit(body(render_id), render_id)
        except _Unresolved as unresolved:
            raise self._unconfirmed(render_id, unresolved) from unresolved.error.__cause__
        except _FINAL:
            self._forget(render_id)
            raise
        except errors.NemoError as exc:
            # API.md: when a submit fails (a duplicate id among the causes), make a
            # new id and retry once. Only here, where the server has said the first
            # id is unknown to it (or refused it): a second render is never a copy.
            self._forget(render_id)
            logger.info("export %s failed (%s); retrying once with a new id", render_id, exc)
            render_id = new_render_id()
            self._record(render_id, sid)
            try:
                job = await self._submit(body(render_id), render_id)
            except _Unresolved as unresolved:
                raise self._unconfirmed(render_id, unresolved) from unresolved.error.__cause__
            except errors.NemoError:
                self._forget(render_id)
                raise
        if job.id != render_id:
            self._forget(render_id)
            self._record(job.id, sid)
        self._update(job.id, status=job.status)
        return job

    async def _submit(self, body: dict[str, Any], render_id: str) -> RenderJob:
        try:
            doc = await self._transport.request("POST", _EXPORT_PATH, json=body, idempotent=False)
        except _TRANSIENT as exc:
            # The server may have accepted the render before the answer was lost:
            # ask about this id before a second render is started under a new one.
            try:
                return await self.get(render_id)
            except errors.NotFoundError:
                raise exc from exc.__cause__  # it has no such render: a new id is safe
            except errors.NemoError as lookup:
                # Neither answer says whether the render exists: a new id could start
                # a second render, so the first stays in the journal instead.
                raise _Unresolved(exc, lookup) from exc
        try:
            return RenderJob.from_api(doc, render_id=render_id)
        except errors.UnknownRenderStatus:
            raise
        except errors.InvalidResponseError:
            return RenderJob(id=render_id, status="pending", raw=doc)  # accepted, no status said

    def _unconfirmed(self, render_id: str, unresolved: _Unresolved) -> errors.NemoError:
        """Keep an export whose fate is unknown in the journal; the error to raise."""
        self._update(render_id, status=_UNCONFIRMED)
        logger.warning(
            "export %s: the answer was lost (%s) and the render could not be looked up "
            "(%s); it stays in the job journal: renders.wait(%r) resumes it if it exists",
            render_id, unresolved.error, unresolved.lookup, render_id,
        )  # fmt: skip
        return unresolved.error

    # ------------------------------------------------------------------ status

    async def get(self, render_id: str) -> RenderJob:
        """The job's current state (``GET /api/render/proxy/lambda/<id>``)."""
        rid = check_id("render id", render_id)
        doc = await self._transport.request("GET", ("api", "render", "proxy", "lambda", rid))
        return RenderJob.from_api(doc, render_id=rid)

    async def wait(
        self,
        render_id: str,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        on_progress: RenderProgress | None = None,
    ) -> RenderJob:
        """Poll until the job completes; works from the id alone, in any process.

        Connection errors, 5xx and garbled answers during polling are logged and
        polled through until the deadline; an unknown status is raised at once.

        Args:
            poll_interval: seconds between polls (default: the client's; if it has none,
                an adaptive schedule aimed at the moment the render's progress
                predicts it ends, polls at least ``render_poll_floor`` (2 s) apart).
            timeout: overall deadline in seconds (default: the client's, 600 s).
            cancel_on_timeout: cancel the render when the deadline passes.
            on_progress: called with the job whenever status or progress changed.

        Raises:
            RenderFailed: the job failed or was cancelled.
            RenderTimeout: the deadline passed (the id still resumes the wait).
        """
        rid = check_id("render id", render_id)
        config = self._transport.config
        interval = config.render_poll_interval if poll_interval is None else poll_interval
        started = time.monotonic()
        deadline = started + (config.render_timeout if timeout is None else timeout)
        schedule = PollSchedule(floor=config.render_poll_floor) if interval is None else None
        if schedule is not None:
            await self._transport.sleep(min(schedule.first, max(0.0, deadline - started)))
        seen: tuple[str, float | None] | None = None
        last_status: str | None = None
        while True:
            try:
                job = await self.get(rid)
            except errors.UnknownRenderStatus:
                raise
            except errors.NotFoundError:
                self._forget_if_never_acknowledged(rid)
                raise
            except _TRANSIENT as exc:
                # A poll that failed says nothing about the render (replicate #394's lesson).
                logger.info("polling render %s failed (%s); polling on", rid, exc)
                if schedule is not None:
                    schedule.polled(time.monotonic() - started, None)
            else:
                if schedule is not None:
                    schedule.polled(time.monotonic() - started, job.progress)
                if (job.status, job.progress) != seen:
                    seen = (job.status, job.progress)
                    await _call(on_progress, job)
                if job.status != last_status:
                    last_status = job.status
                    self._update(rid, status=job.status, output_url=job.output_url)
                if job.succeeded:
                    return job
                if job.done:
                    self._forget(rid)
                    raise errors.RenderFailed(
                        f"render {rid} {job.status}: {job.error or 'no reason given'}",
                        render_id=rid,
                        error=job.error,
                    )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if cancel_on_timeout:
                    try:
                        await self.cancel(rid)
                    except errors.NemoError as exc:
                        logger.warning("cancelling render %s after its deadline: %s", rid, exc)
                raise errors.RenderTimeout(
                    f"render {rid} not finished before the deadline (last status: "
                    f"{last_status or 'unknown'}); wait on the same id to resume",
                    render_id=rid,
                    last_status=last_status,
                )
            if schedule is not None:
                delay = max(0.0, started + schedule.next_at() - time.monotonic())
            else:
                delay = interval or 0.0
            await self._transport.sleep(min(delay, remaining))

    async def cancel(self, render_id: str) -> RenderJob:
        """Cancel a pending or processing render (``POST .../lambda/<id>/cancel``)."""
        rid = check_id("render id", render_id)
        doc = await self._transport.request(
            "POST", ("api", "render", "proxy", "lambda", rid, "cancel"), idempotent=True
        )
        self._forget(rid)
        try:
            return RenderJob.from_api(doc, render_id=rid)
        except errors.InvalidResponseError:
            return await self.get(rid)

    # ------------------------------------------------------------------ download

    async def download(
        self,
        render_id: str,
        path: str | Path,
        *,
        overwrite: bool = False,
        on_progress: _download.DownloadProgress | None = None,
    ) -> Path:
        """Save the rendered file at ``path``, waiting for the render first if needed.

        The output URL is fetched without the bearer token; if that fails, the
        authenticated ``GET /api/render/proxy/<id>/download`` is used. Nothing
        appears at ``path`` until the whole file is on disk; an interrupted
        download resumes (Range) on the next call with the same id and path.

        When ``path`` is an existing directory, the file is named by the server:
        the ``Content-Disposition`` filename (asked with ``HEAD``), else the output
        URL's last path segment, else ``<render id>.mp4``. A server-supplied name
        that would leave the directory (``..``, ``/``, an absolute path, NUL...) is
        refused before anything is written.

        Raises:
            FileExistsError: the target exists and ``overwrite`` is false (nothing fetched).
            UnsafeFilename: the server-supplied name is not one plain file name.
            DownloadError: neither source delivered the file.
        """
        rid = check_id("render id", render_id)
        target = Path(path)
        directory = target if _is_dir(target) else None
        if directory is None and _exists(target) and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
        job = await self.get(rid)
        if not job.done:
            job = await self.wait(rid)
        if not job.succeeded:
            self._forget(rid)
            reason = job.error or "no file"
            raise errors.RenderFailed(
                f"render {rid} {job.status}: {reason}", render_id=rid, error=job.error
            )
        sources: list[_download.Source] = []
        url = _download.http_url(job.output_url)
        if url is not None:
            sources.append(_download.Source(f"output URL {url.origin()}", url, False))
        elif job.output_url:
            logger.warning("render %s: refusing output URL %r (not http(s))", rid, job.output_url)
        fallback = ("api", "render", "proxy", rid, "download")
        sources.append(_download.Source("fallback route", fallback, True))
        if directory is not None:
            target = await _download.resolve_target(
                self._transport, sources, directory, url=url, default_name=f"{rid}.mp4"
            )
            if _exists(target) and not overwrite:
                raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
        self._update(rid, path=str(target))
        saved = await _download.download(
            self._transport, sources, target, key=rid, overwrite=overwrite, on_progress=on_progress
        )
        self._forget(rid)
        return saved

    # ------------------------------------------------------------------ journal

    async def pending(self) -> list[PendingRender]:
        """Exports recorded in the journal and not yet downloaded, oldest first."""
        return self.journal.pending() if self.journal is not None else []

    def _record(self, render_id: str, session_id: str) -> None:
        if self.journal is not None:
            self.journal.record(render_id, session_id)

    def _update(self, render_id: str, **fields: str | None) -> None:
        if self.journal is not None:
            self.journal.update(render_id, **fields)

    def _forget(self, render_id: str) -> None:
        if self.journal is not None:
            self.journal.forget(render_id)

    def _forget_if_never_acknowledged(self, render_id: str) -> None:
        # An export whose submit was never answered and that the service does not
        # know: it was never made. One the service did acknowledge stays recorded.
        if self.journal is not None:
            for entry in self.journal.pending():
                if entry.render_id == render_id and entry.status in _NEVER_ACKNOWLEDGED:
                    self.journal.forget(render_id)
