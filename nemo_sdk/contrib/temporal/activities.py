"""The activities: each step of a video job, on one ``NemoClient`` per worker.

Every step but :meth:`NemoActivities.send_message` may run again (Temporal
retries it, or moves it to another worker when its heartbeats stop), so each
is safe to repeat: the render is get-or-create under the job's render id,
waiting works from the id alone and a download resumes its partial file.
Errors leave as ``ApplicationError`` named after the SDK's error class, marked
non-retryable when ``NemoError.retryable`` says a retry cannot succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ... import errors
from ...client import NemoClient
from ...fleet import require_shared_identity
from ...models.render import RenderJob
from ...workflows import generation_message
from ._types import Downloaded, DownloadInput, RenderDone, RenderInput, SendInput, WaitInput

if TYPE_CHECKING:
    from ..._rules.export_options import ExportFormat, ExportQuality


_SCALAR = (str, int, float, bool, type(None))


def _error_fields(exc: errors.NemoError) -> dict[str, Any]:
    """The error's own attributes (``status``, ``code``, ``request_id``...), for its details.

    Only plain values; ``body`` (a diagnostic excerpt) and ``message`` (the
    failure's message already) are left out.
    """
    return {
        name: value
        for name, value in vars(exc).items()
        if not name.startswith("_")
        and name not in ("body", "message")
        and isinstance(value, _SCALAR)
    }


def to_application_error(exc: errors.NemoError) -> ApplicationError:
    """The Temporal error for an SDK error: its class name, its fields, whether to retry.

    Its one detail is a dict of the error's plain attributes (``status``, ``code``,
    ``request_id``, ``retry_after``, ``user_id``...).
    """
    delay = None
    if isinstance(exc, errors.RateLimitError) and exc.retry_after is not None:
        delay = timedelta(seconds=exc.retry_after)  # retried after the wait it asked for
    return ApplicationError(
        str(exc),
        _error_fields(exc),
        type=type(exc).__name__,
        non_retryable=not exc.retryable,
        next_retry_delay=delay,
    )


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    # Beat at a third of the timeout while a step runs: a killed worker stops
    # beating and Temporal hands the step to another one.
    timeout = activity.info().heartbeat_timeout
    every = timeout.total_seconds() / 3 if timeout else 10.0

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    except errors.NemoError as exc:
        raise to_application_error(exc) from None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class NemoActivities:
    """The activities of :class:`~nemo_sdk.contrib.temporal.MakeVideo`, sharing one client.

    ``nemo`` must hold the fleet's shared (registered) token: a job may move to
    another worker, which must see the same sessions and renders.

    Raises:
        ConfigurationError: ``nemo`` would use an anonymous token (before any work).
    """

    def __init__(self, nemo: NemoClient) -> None:
        require_shared_identity(nemo, "a Temporal worker")
        self.nemo = nemo

    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for ``Worker(activities=...)``."""
        return [
            self.create_session,
            self.send_message,
            self.draft_exportable,
            self.start_render,
            self.wait_render,
            self.download,
        ]

    @activity.defn(name="nemo.create_session")
    async def create_session(self, language: str) -> str:
        """A new session; its id."""
        async with _heartbeating():
            return (await self.nemo.sessions.create(language=language)).id

    @activity.defn(name="nemo.send_message")
    async def send_message(self, step: SendInput) -> bool:
        """Ask for the generation, once (the workflow never retries this step); exportable?"""
        async with _heartbeating():
            await self.nemo.chat.send(step.session_id, generation_message(step.prompt))
            draft = (await self.nemo.state.get(step.session_id)).draft
            return draft is not None and draft.is_exportable

    @activity.defn(name="nemo.draft_exportable")
    async def draft_exportable(self, session_id: str) -> bool:
        """One state read: has the session an exportable draft yet?"""
        async with _heartbeating():
            draft = (await self.nemo.state.get(session_id)).draft
            return draft is not None and draft.is_exportable

    @activity.defn(name="nemo.start_render")
    async def start_render(self, step: RenderInput) -> str:
        """Export under the job's render id (get-or-create: one render per id)."""
        async with _heartbeating():
            # Plain strings on the wire of the workflow; export checks them before sending.
            job = await self.nemo.renders.export(
                step.session_id,
                format=cast("ExportFormat", step.format),
                quality=cast("ExportQuality", step.quality),
                render_id=step.render_id,
            )
            return job.id

    @activity.defn(name="nemo.wait_render")
    async def wait_render(self, step: WaitInput) -> RenderDone:
        """Poll the render until it completes, beating at every poll."""

        def beat(job: RenderJob) -> None:
            activity.heartbeat(job.progress)

        async with _heartbeating():
            job = await self.nemo.renders.wait(
                step.render_id, poll_interval=step.poll_interval, timeout=step.timeout, on_poll=beat
            )
            return RenderDone(job.id, job.output_url)

    @activity.defn(name="nemo.download")
    async def download(self, step: DownloadInput) -> Downloaded:
        """Download the render to ``path`` (a partial file left by a dead worker resumes)."""
        async with _heartbeating():
            path = await self.nemo.renders.download(step.render_id, Path(step.path), overwrite=True)
            return Downloaded(str(path), path.stat().st_size)
