"""The workflows: one video (:class:`MakeVideo`) and many (:class:`MakeVideos`).

Workflow code is deterministic: it imports only the standard library,
``temporalio`` and the dataclasses of ``_types``; every call to the service is
an activity (:mod:`.activities`), every wait a durable timer.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from ._types import (
        BatchJob,
        BatchOutcome,
        Downloaded,
        DownloadInput,
        RenderDone,
        RenderInput,
        SendInput,
        VideoJob,
        VideoResult,
        WaitInput,
    )

# The one step that charges credits: never run twice by the engine.
AT_MOST_ONCE = RetryPolicy(maximum_attempts=1)
# A send refused with 429 (never taken, never charged) is sent again this many times.
_REFUSED_SENDS = 3
# Other steps: retried with backoff; NemoError.retryable marks the hopeless ones.
STEPS = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
)


def render_id_for(workflow_id: str) -> str:
    """The render id of a job: derived from its workflow id, the same on every worker."""
    return "render_" + hashlib.sha256(workflow_id.encode()).hexdigest()[:32]


def _permanent(exc: ActivityError) -> ApplicationError | None:
    """The typed, non-retryable error behind an activity failure, if it was one."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        # Its details (the SDK error's fields) travel on with it.
        return ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True)
    return None


def _options(job: VideoJob, retry: RetryPolicy = STEPS, minutes: float = 15.0) -> dict[str, Any]:
    return {
        "start_to_close_timeout": timedelta(minutes=minutes),
        "heartbeat_timeout": timedelta(seconds=job.heartbeat_timeout),
        "retry_policy": retry,
    }


def _rate_limited(exc: ActivityError) -> timedelta | None:
    """The wait a 429 asked for, when the activity failed on one (else ``None``)."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == "RateLimitError":
        return cause.next_retry_delay or timedelta(seconds=30)
    return None


def _ready(exc: ActivityError) -> ApplicationError:
    return _permanent(exc) or ApplicationError(str(exc.cause or exc), type="StreamInterruptedError")


@workflow.defn(name="nemo.MakeVideo")
class MakeVideo:
    """Make one video: session, one generation (at most once), export, wait, download."""

    @workflow.run
    async def run(self, job: VideoJob) -> VideoResult:
        """The job's result; fails with the SDK error's class name as its type."""
        info = workflow.info()
        try:
            session_id: str = await workflow.execute_activity(
                "nemo.create_session", job.language, result_type=str, **_options(job)
            )
            await self._generate(job, session_id)
            render_id = render_id_for(info.workflow_id)
            await workflow.execute_activity(
                "nemo.start_render",
                RenderInput(session_id, render_id, job.format, job.quality),
                result_type=str,
                **_options(job),
            )
            done: RenderDone = await workflow.execute_activity(
                "nemo.wait_render",
                WaitInput(render_id, job.poll_interval, job.render_timeout),
                result_type=RenderDone,
                **_options(job, minutes=job.render_timeout / 60 + 1),
            )
            result = VideoResult(info.workflow_id, session_id, render_id, done.output_url)
            if job.out_dir is not None:
                name = f"{info.workflow_id.replace('/', '_')}.{job.format}"
                path = f"{job.out_dir.rstrip('/')}/{name}"
                saved: Downloaded = await workflow.execute_activity(
                    "nemo.download",
                    DownloadInput(render_id, path),
                    result_type=Downloaded,
                    **_options(job),
                )
                result.path, result.size = saved.path, saved.size
            return result
        except ActivityError as exc:
            raise _ready(exc) from None

    async def _generate(self, job: VideoJob, session_id: str) -> None:
        ready = False
        for _ in range(_REFUSED_SENDS):
            try:
                ready = await workflow.execute_activity(
                    "nemo.send_message",
                    SendInput(session_id, job.prompt),
                    result_type=bool,
                    **_options(job, AT_MOST_ONCE, 20.0),
                )
                break
            except ActivityError as exc:
                if _permanent(exc) is not None:
                    raise
                refused = _rate_limited(exc)
                if refused is not None:
                    # A 429 is answered before the message is taken: sending again
                    # after its wait cannot charge twice.
                    await workflow.sleep(refused)
                    continue
                # API.md's drop rule: the message may be running; never re-send it,
                # watch the state on durable timers until the draft can be exported.
                workflow.logger.info("sending failed (%s); watching session %s", exc, session_id)
                break
        if ready:
            return
        await workflow.sleep(job.watch_first)
        for read in range(job.watch_reads):
            if read:
                await workflow.sleep(job.watch_every)
            if await workflow.execute_activity(
                "nemo.draft_exportable", session_id, result_type=bool, **_options(job)
            ):
                return
        raise ApplicationError(
            f"session {session_id}: no exportable draft after {job.watch_reads} state reads; "
            "the message was not re-sent (it may still be charged)",
            type="StreamInterruptedError",
            non_retryable=True,
        )


@workflow.defn(name="nemo.MakeVideos")
class MakeVideos:
    """Many videos as child workflows ``<batch id>/<n>``, at most ``concurrency`` at once."""

    @workflow.run
    async def run(self, batch: BatchJob) -> list[BatchOutcome]:
        """One outcome per job, in order; a failed child does not stop the others."""
        gate = asyncio.Semaphore(max(1, batch.concurrency))
        parent = workflow.info().workflow_id

        async def one(index: int, job: VideoJob) -> BatchOutcome:
            child_id = f"{parent}/{index}"
            async with gate:
                try:
                    result: VideoResult = await workflow.execute_child_workflow(
                        MakeVideo.run, job, id=child_id
                    )
                except ChildWorkflowError as exc:
                    cause = exc.cause
                    kind = cause.type if isinstance(cause, ApplicationError) else None
                    return BatchOutcome(child_id, error_type=kind, error=str(cause or exc))
            return BatchOutcome(child_id, result=result)

        return list(await asyncio.gather(*(one(i, j) for i, j in enumerate(batch.jobs))))
