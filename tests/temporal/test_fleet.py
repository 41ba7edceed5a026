"""Many jobs across two worker processes: all complete, one render each."""

from __future__ import annotations

import os
from typing import Any

import pytest
from temporalio.client import Client

from nemo_sdk.contrib.temporal import BatchJob, BatchOutcome, MakeVideos

from .test_jobs import fast_job

JOBS = int(os.environ.get("NEMO_TEMPORAL_JOBS", "50"))


@pytest.mark.slow(seconds=25)  # fifty jobs
@pytest.mark.timeout(300)
async def test_fifty_jobs_on_two_workers(temporal: Client, make_rig: Any) -> None:
    rig = make_rig()
    rig.start_worker()
    rig.start_worker()
    # Heartbeats get room here: two loaded cores serve 50 jobs at once.
    jobs = [
        fast_job(rig, f"clip number {i} of a city at night", heartbeat_timeout=15.0)
        for i in range(JOBS)
    ]
    outcomes = await temporal.execute_workflow(
        MakeVideos.run,
        BatchJob(jobs, concurrency=16),
        id="batch-fifty",
        task_queue=rig.task_queue,
        result_type=list[BatchOutcome],
    )
    assert [o.error for o in outcomes] == [None] * JOBS
    stats = await rig.stats()
    render_ids = [r["id"] for r in stats["renders"]]
    assert len(render_ids) == len(set(render_ids)) == JOBS
    assert {o.result.render_id for o in outcomes if o.result} == set(render_ids)
    # One chat turn (one charge) per job, each in its own session. A session whose
    # create answer was lost is made again (the API has no look-up by name): an
    # empty extra session costs nothing, so it is allowed, not hidden.
    turn_sessions = [t["session"] for t in stats["turns"]]
    assert len(turn_sessions) == len(set(turn_sessions)) == JOBS
    assert stats["sessions"] >= JOBS
    assert all(o.result and o.result.size and o.result.size > 0 for o in outcomes)
