"""``nemo.renders``: export a draft, wait for it, cancel it, download the file.

API.md, "POST /api/render/proxy/lambda" and the routes after it. The render
id is the handle: ``wait``, ``cancel`` and ``download`` need nothing else,
so a job survives the process that started it. Exports are written to the
job journal before they are sent and removed once downloaded, failed or
cancelled; ``pending()`` lists what is left.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast, overload

from .. import errors
from .._files import download as _download
from .._files.download_stream import Writable, is_writable
from .._files.journal import Journal, absolute
from .._http import Transport, check_id
from .._http.response_info import attach
from .._rules import arguments as _arguments
from .._rules.export_options import ExportFormat, ExportQuality
from .._rules.poll_schedule import PollSchedule
from .._util.logging import logger
from ..models.draft import Draft
from ..models.render import PendingRender, RenderJob
from ..progress import OnProgress, call_back
from . import _chosen
from ._base import Resource
from ._chosen import _Unresolved
from .state import State

RenderProgress = OnProgress[[RenderJob]]
"""``on_progress(job)`` whenever the status or progress changed; may be sync or async."""

_EXPORT_PATH = "/api/render/proxy/lambda"
# The answer to these is final: a second submit would meet the same refusal.
_FINAL = (
    errors.ExportBlockedError,
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
# Journal status of a render whose whole file is on disk and being put at its path.
_PLACING = "placing"


def new_render_id() -> str:
    """A fresh ``render_<unique>`` id (API.md: the client names the render)."""
    return f"render_{uuid.uuid4().hex}"


class Renders(Resource):
    """Render (export) calls. ``journal`` is ``None`` when the job journal is off."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        path = transport.config.journal_path
        self.journal: Journal | None = (
            Journal(path, scope=str(transport.config.api_url)) if path is not None else None
        )
        self._state = State(transport)

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
        download_to: str | Path | None = None,
        render_id: str | None = None,
    ) -> RenderJob:
        """Start rendering ``draft`` (default: the session's latest draft); free of credits.

        ``download_to`` is where the file will be downloaded: it is journaled (made
        absolute) with the render before the request is sent, so a program that
        crashes mid-render knows where the file was meant to go.

        ``render_id`` (for example derived from a job id) makes the call get-or-create:
        a render that already has that id is returned instead of starting another.

        Raises:
            InvalidArgumentError: ``format`` or ``quality`` is not one the API takes
                (mp4/mov/mkv/webm/gif; low/medium/high), ``width``/``height`` not a whole
                number above zero, ``fps`` not a finite number above zero (nothing sent).
            InvalidDraftError: ``draft`` is not in the timeline format (nothing sent).
            DraftNotExportableError: no tracks, or every track's ``sg`` is empty (nothing sent).
            ExportBlockedError: HTTP 402, the plan or the token cannot export (never retried).
        """
        sid = check_id("session id", session_id)
        output = _arguments.output_options(format, quality, width, height, fps)
        target = None if download_to is None else str(check_target(download_to))
        chosen = None if render_id is None else check_id("render id", render_id)
        if draft is None:
            draft = (await self._state.get(sid)).draft
        parsed = draft if isinstance(draft, Draft) or draft is None else Draft.from_wire(draft)
        if parsed is None or not parsed.is_exportable:
            raise errors.DraftNotExportableError(
                "the draft has no track with a segment; generate or edit something first"
            )
        wire = parsed.to_wire()

        def body(render_id: str) -> dict[str, Any]:
            return {"id": render_id, "sessionId": sid, "draft": wire, "output": output}

        if chosen is not None:
            return await _chosen.export(self, chosen, sid, body, target)
        render_id = new_render_id()
        await self._record(render_id, sid, target)
        try:
            job = await self._submit(body(render_id), render_id)
        except _Unresolved as unresolved:
            raise await self._unconfirmed(render_id, unresolved) from unresolved.error.__cause__
        except _FINAL:
            await self._forget(render_id)
            raise
        except errors.NemoError as exc:
            # API.md: when a submit fails (a duplicate id among the causes), make a
            # new id and retry once. Only here, where the server has said the first
            # id is unknown to it (or refused it): a second render is never a copy.
            await self._forget(render_id)
            logger.info("export %s failed (%s); retrying once with a new id", render_id, exc)
            render_id = new_render_id()
            await self._record(render_id, sid, target)
            try:
                job = await self._submit(body(render_id), render_id)
            except _Unresolved as unresolved:
                raise await self._unconfirmed(render_id, unresolved) from unresolved.error.__cause__
            except errors.NemoError:
                await self._forget(render_id)
                raise
        if job.id != render_id:
            await self._record(job.id, sid, target)  # before the old entry goes: never neither
            await self._forget(render_id)
        await self._update(job.id, status=job.status)
        return job

    async def _submit(self, body: dict[str, Any], render_id: str) -> RenderJob:
        try:
            doc, info = await self._transport.answer(
                "POST", _EXPORT_PATH, json=body, idempotent=False
            )
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
            return attach(RenderJob.from_api(doc, render_id=render_id), info)
        except errors.InvalidResponseError as exc:
            # A success answer means the render exists, whatever status it names (an
            # undocumented "queued", none at all): never submitted again, kept journaled.
            # A poll that keeps naming an unknown status raises UnknownRenderStatusError then.
            logger.warning("export %s accepted with an unreadable answer (%s)", render_id, exc)
            return attach(RenderJob(id=render_id, status="pending", raw=doc), info)

    async def _unconfirmed(self, render_id: str, unresolved: _Unresolved) -> errors.NemoError:
        """Keep an export whose fate is unknown in the journal; the error to raise."""
        await self._update(render_id, status=_UNCONFIRMED)
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
        doc, info = await self._transport.answer("GET", ("api", "render", "proxy", "lambda", rid))
        return attach(RenderJob.from_api(doc, render_id=rid), info)

    async def wait(
        self,
        render_id: str,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        on_progress: RenderProgress | None = None,
        on_poll: RenderProgress | None = None,
    ) -> RenderJob:
        """Poll until the job completes; works from the id alone, in any process.

        Connection errors, 5xx and garbled answers during polling are logged and
        polled through until the deadline; an unknown status is raised at once.

        Args:
            poll_interval: seconds between polls, above zero (default: the client's; if it
                has none, an adaptive schedule aimed at the moment the render's progress
                predicts it ends, polls at least ``RenderSettings.poll_floor`` (2 s) apart).
            timeout: overall deadline in seconds, zero or more (default: the client's
                ``RenderSettings.timeout``, 600 s).
            cancel_on_timeout: cancel the render when the deadline passes.
            on_progress: called with the job whenever status or progress changed.
            on_poll: called with the job after every answered poll (a job engine's
                heartbeat); ``renders.get`` is the one-step poll for engine timers.

        Raises:
            InvalidArgumentError: ``poll_interval`` or ``timeout`` is not a finite number in
                range (NaN, a negative or zero interval; nothing sent).
            RenderFailedError: the job failed or was cancelled.
            RenderTimeoutError: the deadline passed (the id still resumes the wait).
        """
        rid = check_id("render id", render_id)
        interval = _arguments.optional_positive("poll_interval", poll_interval)
        limit = _arguments.optional_non_negative("timeout", timeout)
        waits = self._transport.config.render
        interval = waits.poll_interval if interval is None else interval
        started = time.monotonic()
        deadline = started + (waits.timeout if limit is None else limit)
        schedule = PollSchedule(floor=waits.poll_floor) if interval is None else None
        if schedule is not None:
            await self._transport.sleep(min(schedule.first, max(0.0, deadline - started)))
        seen: tuple[str, float | None] | None = None
        last_status: str | None = None
        while True:
            try:
                job = await self.get(rid)
            except errors.UnknownRenderStatusError:
                raise
            except errors.NotFoundError:
                await self._forget_if_never_acknowledged(rid)
                raise
            except _TRANSIENT as exc:
                # A poll that failed says nothing about the render (replicate #394's lesson).
                logger.info("polling render %s failed (%s); polling on", rid, exc)
                if schedule is not None:
                    schedule.polled(time.monotonic() - started, None)
            else:
                if on_poll is not None:
                    await call_back(on_poll, job)
                if schedule is not None:
                    schedule.polled(time.monotonic() - started, job.progress)
                if (job.status, job.progress) != seen:
                    seen = (job.status, job.progress)
                    if on_progress is not None:
                        await call_back(on_progress, job)
                if job.status != last_status:
                    last_status = job.status
                    await self._update(rid, status=job.status, output_url=job.output_url)
                if job.succeeded:
                    return job
                if job.done:
                    await self._forget(rid)
                    raise errors.RenderFailedError(
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
                raise errors.RenderTimeoutError(
                    f"render {rid} not finished before the deadline (last status: "
                    f"{last_status or 'unknown'}); wait on the same id to resume",
                    render_id=rid,
                    last_status=last_status,
                )
            if schedule is not None:
                delay = max(0.0, started + schedule.next_at() - time.monotonic())
            else:
                delay = 0.0 if interval is None else interval
            await self._transport.sleep(min(delay, remaining))

    async def cancel(self, render_id: str) -> RenderJob:
        """Cancel a pending or processing render (``POST .../lambda/<id>/cancel``).

        The journal lets the render go, unless the answer says it completed first:
        its file is still to be downloaded.
        """
        rid = check_id("render id", render_id)
        doc, info = await self._transport.answer(
            "POST", ("api", "render", "proxy", "lambda", rid, "cancel"), idempotent=True
        )
        try:
            job = attach(RenderJob.from_api(doc, render_id=rid), info)
        except errors.InvalidResponseError:
            job = await self.get(rid)
        if not job.succeeded:
            await self._forget(rid)
        return job

    # ------------------------------------------------------------------ download

    @overload
    async def download(
        self,
        render_id: str,
        path: str | Path,
        *,
        overwrite: bool = False,
        on_progress: _download.DownloadProgress | None = None,
    ) -> Path: ...

    @overload
    async def download(
        self,
        render_id: str,
        path: Writable,
        *,
        overwrite: bool = False,
        on_progress: _download.DownloadProgress | None = None,
    ) -> int: ...

    async def download(
        self,
        render_id: str,
        path: str | Path | Writable,
        *,
        overwrite: bool = False,
        on_progress: _download.DownloadProgress | None = None,
    ) -> Path | int:
        """Save the rendered file at ``path``, waiting for the render first if needed.

        ``path`` may instead be a writable binary stream or an async writer (its
        ``write`` returns an awaitable): the file is written into it with the same
        checks, and the number of bytes is returned (:mod:`nemo_sdk._files.download_stream`).

        The output URL is fetched without the bearer token; if that fails, the
        authenticated ``GET /api/render/proxy/<id>/download`` is used. Nothing
        appears at ``path`` until the whole file is on disk; an interrupted
        download resumes (Range) on the next call with the same id and path.

        When ``path`` is an existing directory, the file is named by the server:
        the ``Content-Disposition`` filename (asked with ``HEAD``), else the output
        URL's last path segment, else ``<render id>.mp4``. A server-supplied name
        that would leave the directory (``..``, ``/``, an absolute path, NUL...) is
        refused before anything is written.

        Two downloads of one render to one target (two tasks, two processes) take
        turns: the second waits for the first and returns its file.

        Raises:
            InvalidArgumentError: ``path`` is empty, or its name is too long to hold the
                partial file's name beside it (nothing sent).
            FileExistsError: the target exists and ``overwrite`` is false (nothing
                fetched), unless it is this render's own file, placed by a download
                killed before it could forget the journal entry: then that entry is
                forgotten and the path returned.
            NotFoundError: the service has no such render; a journal entry for it
                that the service never acknowledged is dropped.
            UnsafeFilenameError: the server-supplied name is not one plain file name.
            DownloadError: neither source delivered the file.
        """
        rid = check_id("render id", render_id)
        if is_writable(path):
            return await _chosen.download_to_stream(self, rid, cast(Writable, path), on_progress)
        target = check_target(cast("str | Path", path), rid)
        directory = target if target.is_dir() else None
        if directory is None and target.exists() and not overwrite:
            if await self._placed_before(rid, target):
                return target
            raise errors.file_exists(target)
        try:
            job = await self.get(rid)
        except errors.NotFoundError:
            await self._forget_if_never_acknowledged(rid)
            raise
        if not job.done:
            job = await self.wait(rid)
        if not job.succeeded:
            await self._forget(rid)
            reason = job.error or "no file"
            raise errors.RenderFailedError(
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
                self._transport, sources, directory, url=url, default_name=f"{rid}.mp4", key=rid
            )
            if target.exists() and not overwrite:
                if await self._placed_before(rid, target):
                    return target
                raise errors.file_exists(target)
        await self._update(rid, path=str(target))

        async def placing() -> None:
            await self._update(rid, status=_PLACING)

        saved = await _download.download(
            self._transport, sources, target, key=rid, overwrite=overwrite,
            on_progress=on_progress, on_placing=placing,
        )  # fmt: skip
        await self._forget(rid)
        return saved

    # ------------------------------------------------------------------ journal

    async def pending(self) -> list[PendingRender]:
        """Exports of this client's API URL not yet downloaded, oldest first (the journal)."""
        return await self.journal.pending() if self.journal is not None else []

    async def forget(self, render_id: str) -> None:
        """Drop ``render_id`` from the job journal; nothing is sent, the render is untouched.

        For an entry you will never download (``pending()`` lists it until then).
        Its id still works with ``wait`` and ``download``.
        """
        await self._forget(check_id("render id", render_id))

    async def _record(self, render_id: str, session_id: str, path: str | None = None) -> None:
        if self.journal is not None:
            await self.journal.record(render_id, session_id, path=path)

    async def _update(self, render_id: str, **fields: str | None) -> None:
        if self.journal is not None:
            await self.journal.update(render_id, **fields)

    async def _forget(self, render_id: str) -> None:
        if self.journal is not None:
            await self.journal.forget(render_id)

    async def _placed_before(self, render_id: str, target: Path) -> bool:
        """Whether the file at ``target`` is this render's, put there by a download cut short.

        A process killed between placing the file and forgetting the journal entry
        leaves the finished file at its path: either its partial file is still the
        same inode, or the entry says the file was being placed at this very path
        (and the file there is media). Then the job is finished here, entry forgotten;
        any other file at ``target`` is the user's and is left alone.
        """
        done = _download.adopt_placed(target, render_id)
        if not done and self.journal is not None and _download.is_media_file(target):
            where = absolute(target)
            done = any(
                entry.render_id == render_id and entry.status == _PLACING and entry.path == where
                for entry in await self.journal.pending()
            )
        if done:
            logger.info("render %s was already downloaded to %s", render_id, target)
            await self._forget(render_id)
        return done

    async def _forget_if_never_acknowledged(self, render_id: str) -> None:
        # An export whose submit was never answered and that the service does not
        # know: it was never made. One the service did acknowledge stays recorded.
        if self.journal is not None:
            for entry in await self.journal.pending():
                if entry.render_id == render_id and entry.status in _NEVER_ACKNOWLEDGED:
                    await self.journal.forget(render_id)


def check_target(path: str | Path, key: str | None = None) -> Path:
    """``path`` as a download target, refused up front when empty or too long a name.

    An empty string would mean the current directory. The partial file beside the
    target (``.<name>.<render id>.part``) must fit the filesystem's name limit too:
    a name that cannot hold it is refused here, not after a render was paid for.
    """
    if isinstance(path, str) and not path.strip():
        raise errors.InvalidArgumentError("the download path is empty; give a file or a directory")
    target = Path(path)
    if not target.is_dir():
        _download.check_name_fits(target, key)
    return target
