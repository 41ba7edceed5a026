"""Video jobs on a real Temporal dev server, workers in their own processes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from nemo_sdk import NemoClient, errors
from nemo_sdk.contrib.temporal import (
    MakeVideo,
    MakeVideos,
    VideoJob,
    VideoResult,
    create_worker,
    render_id_for,
)

from .conftest import Rig, wait_for


def fast_job(rig: Rig, prompt: str = "a red fox in the snow", **changes: Any) -> VideoJob:
    """A job with the test timings: short heartbeats, fast polls, a quick drop rule."""
    settings: dict[str, Any] = {
        "out_dir": str(rig.out_dir),
        "watch_first": 0.2,
        "watch_every": 0.3,
        "watch_reads": 40,
        "poll_interval": 0.1,
        "heartbeat_timeout": 2.0,
        **changes,
    }
    return VideoJob(prompt, **settings)


async def run_job(temporal: Client, rig: Rig, job: VideoJob, job_id: str | None = None) -> Any:
    return await temporal.execute_workflow(
        MakeVideo.run,
        job,
        id=job_id or f"video-{uuid.uuid4().hex[:8]}",
        task_queue=rig.task_queue,
        result_type=VideoResult,
    )


def assert_playable(path: str | None, size: int | None) -> None:
    assert path is not None
    assert os.path.getsize(path) == size
    with av.open(path) as container:
        assert container.streams.video and container.duration


async def assert_exactly_once(rig: Rig, result: VideoResult) -> None:
    stats = await rig.stats()
    assert stats["sessions"] == 1
    assert [t["session"] for t in stats["turns"]] == [result.session_id]
    renders = [r for r in stats["renders"] if r["session"] == result.session_id]
    assert [r["id"] for r in renders] == [result.render_id]
    assert_playable(result.path, result.size)


async def test_one_video_end_to_end(temporal: Client, make_rig: Any) -> None:
    rig = make_rig()
    rig.start_worker()
    result = await run_job(temporal, rig, fast_job(rig), "video-happy")
    assert result.render_id == render_id_for("video-happy")
    assert result.output_url
    await assert_exactly_once(rig, result)
    # The workflow code is deterministic: its recorded history replays without error.
    history = await temporal.get_workflow_handle("video-happy").fetch_history()
    await Replayer(workflows=[MakeVideo, MakeVideos]).replay_workflow(history)


async def test_a_worker_with_an_anonymous_token_is_refused_before_any_work(
    temporal: Client, make_rig: Any
) -> None:
    rig = make_rig()
    async with NemoClient(base_url=rig.api_url) as nemo:
        with pytest.raises(errors.ConfigurationError, match="registered token"):
            create_worker(temporal, nemo, task_queue=rig.task_queue)
    assert (await rig.stats())["sessions"] == 0


async def _kill_when(
    temporal: Client, rig: Rig, job: VideoJob, reached: Any
) -> tuple[VideoResult, dict[str, Any]]:
    """Start a job on one worker, SIGKILL it at ``reached``, finish on a new worker."""
    first = rig.start_worker()
    handle = await temporal.start_workflow(
        MakeVideo.run,
        job,
        id=f"video-{uuid.uuid4().hex[:8]}",
        task_queue=rig.task_queue,
        result_type=VideoResult,
    )
    await wait_for(lambda: reached(rig), timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait()
    rig.start_worker()
    result = await handle.result()
    return result, await _steps(handle.fetch_history)


async def _steps(fetch: Any) -> dict[str, Any]:
    """From the workflow's history: each activity's last attempt, and those timed out."""
    history = await fetch()
    names: dict[int, str] = {}
    scheduled: dict[str, int] = {}
    attempts: dict[str, int] = {}
    timed_out: list[str] = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            names[event.event_id] = name
            scheduled[name] = scheduled.get(name, 0) + 1
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            name = names[started.scheduled_event_id]
            attempts[name] = max(attempts.get(name, 0), started.attempt)
        elif event.HasField("activity_task_timed_out_event_attributes"):
            timed_out.append(
                names[event.activity_task_timed_out_event_attributes.scheduled_event_id]
            )
    return {"attempts": attempts, "timed_out": timed_out, "scheduled": scheduled}


async def test_sigkill_mid_generation(temporal: Client, make_rig: Any) -> None:
    rig = make_rig(think_seconds=3.0)

    async def generating(rig: Rig) -> bool:
        turns = (await rig.stats())["turns"]
        return bool(turns) and not turns[0]["completed"]

    result, steps = await _kill_when(temporal, rig, fast_job(rig), generating)
    await assert_exactly_once(rig, result)
    # The sending step died with its worker and was not retried; the state was watched.
    assert steps["timed_out"] == ["nemo.send_message"]
    assert steps["attempts"]["nemo.send_message"] == 1
    assert "nemo.draft_exportable" in steps["attempts"]


async def test_sigkill_mid_render(temporal: Client, make_rig: Any) -> None:
    rig = make_rig(render_seconds=3.0)

    async def rendering(rig: Rig) -> bool:
        # The wait step is polling (not merely scheduled) and the render is not done.
        stats = await rig.stats()
        renders = stats["renders"]
        return stats["polls"] >= 3 and renders[0]["status"] in ("pending", "processing")

    result, steps = await _kill_when(temporal, rig, fast_job(rig), rendering)
    await assert_exactly_once(rig, result)
    assert steps["attempts"]["nemo.wait_render"] >= 2  # resumed on the second worker


async def test_sigkill_mid_download(temporal: Client, make_rig: Any) -> None:
    rig = make_rig()
    # The first fetch of the file sends half of it, then nothing for a while: the kill
    # lands with those bytes in the partial file on the (shared) output directory.
    await rig.fault("cdn", "stall", delay=20.0)
    seen: dict[str, int] = {}

    async def partial_on_disk(rig: Rig) -> bool:
        for part in rig.out_dir.glob(".*.part"):
            size = part.stat().st_size
            if size:
                seen[part.name] = size
                return True
        return False

    result, steps = await _kill_when(temporal, rig, fast_job(rig), partial_on_disk)
    await assert_exactly_once(rig, result)
    assert steps["attempts"]["nemo.download"] >= 2  # finished by the second worker
    # Byte for byte the service's file.
    assert result.output_url and result.path
    async with aiohttp.ClientSession() as http, http.get(result.output_url) as r:
        expected = await r.read()
    assert await asyncio.to_thread(Path(result.path).read_bytes) == expected
    ((_, had),) = seen.items()
    assert 0 < had < len(expected)
    # Resumed, not restarted: the second worker asked for the rest of the partial file.
    ranges = (await rig.stats())["file_ranges"]
    assert ranges[0] == "" and ranges[1] == f"bytes={had}-", ranges
    assert not list(rig.out_dir.glob(".*.part"))


async def test_same_job_id_twice_is_refused(temporal: Client, make_rig: Any) -> None:
    from temporalio.exceptions import WorkflowAlreadyStartedError

    rig = make_rig()
    rig.start_worker()
    job = fast_job(rig)
    handle = await temporal.start_workflow(
        MakeVideo.run, job, id="video-twice", task_queue=rig.task_queue, result_type=VideoResult
    )
    with pytest.raises(WorkflowAlreadyStartedError):
        await temporal.start_workflow(
            MakeVideo.run, job, id="video-twice", task_queue=rig.task_queue
        )
    result = await handle.result()
    await assert_exactly_once(rig, result)


@pytest.mark.parametrize(
    ("route", "kind", "error_type"),
    [
        ("chat", "2001", "InsufficientCreditsError"),
        ("chat", "1002", "SessionNotFoundError"),
        ("export", "402", "ExportBlockedError"),
    ],
)
async def test_permanent_error_ends_the_workflow_at_once(
    temporal: Client, make_rig: Any, route: str, kind: str, error_type: str
) -> None:
    rig = make_rig()
    rig.start_worker()
    await rig.fault(route, kind, times=None)
    with pytest.raises(WorkflowFailureError) as failure:
        await run_job(temporal, rig, fast_job(rig))
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == error_type
    assert cause.non_retryable
    # The typed error's fields travel as the failure's detail (never the token).
    (fields,) = cause.details
    assert fields["status"] == (402 if kind == "402" else 200)
    assert fields["code"] == (None if kind == "402" else int(kind))
    assert fields["request_id"].startswith("req_")
    if kind == "2001":
        assert {"user_id", "register_url"} <= set(fields)
    assert rig.token not in str(fields)
    stats = await rig.stats()
    assert not stats["renders"]
    # Not retried: the failing call was made once (chat) or once plus the SDK's own rule.
    assert len(stats["turns"]) <= 1


async def test_a_404_ends_the_workflow_at_once_with_the_typed_error(
    temporal: Client, make_rig: Any
) -> None:
    rig = make_rig()
    rig.start_worker()
    # Every read of a render answers 404 (its id unknown to the service): the export's
    # look-up finds none and starts it; the wait step's first poll then meets the 404.
    await rig.fault("poll", "404", times=None, message="render not found")
    with pytest.raises(WorkflowFailureError) as failure:
        await run_job(temporal, rig, fast_job(rig), "video-404")
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "NotFoundError"
    assert cause.non_retryable
    assert "render not found" in cause.message
    # The typed error's fields travel as the failure's detail.
    (fields,) = cause.details
    assert fields["status"] == 404
    assert fields["request_id"].startswith("req_")
    steps = await _steps(temporal.get_workflow_handle("video-404").fetch_history)
    assert steps["attempts"]["nemo.wait_render"] == 1  # not retried by the engine
    assert steps["scheduled"]["nemo.wait_render"] == 1
    assert "nemo.download" not in steps["scheduled"]
    stats = await rig.stats()
    assert stats["polls"] == 2  # the export's look-up, the wait's one poll: no retry
    assert len(stats["renders"]) == 1


async def test_rate_limit_is_retried_after_its_wait(temporal: Client, make_rig: Any) -> None:
    rig = make_rig()
    rig.start_worker()
    # More 429s than the SDK's one retry allows: the activity fails, Temporal retries it.
    await rig.fault("export", "429", times=4, retry_after="0.5")
    result = await run_job(temporal, rig, fast_job(rig))
    stats = await rig.stats()
    assert stats["exports"] >= 5
    await assert_exactly_once(rig, result)


async def test_a_refused_generation_message_is_sent_again_after_its_wait(
    temporal: Client, make_rig: Any
) -> None:
    rig = make_rig()
    rig.start_worker()
    # The SDK's one retry is used up; the 429 reaches the workflow, which waits and re-sends
    # (a 429 comes before the message is taken: no second charge).
    await rig.fault("chat", "429", times=2, retry_after="0.3")
    result = await run_job(temporal, rig, fast_job(rig), "video-refused")
    await assert_exactly_once(rig, result)
    steps = await _steps(temporal.get_workflow_handle("video-refused").fetch_history)
    assert steps["scheduled"]["nemo.send_message"] == 2
