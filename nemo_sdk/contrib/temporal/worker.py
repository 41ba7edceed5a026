"""A worker that runs the video workflows and activities on one ``NemoClient``."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from ...client import NemoClient
from .activities import NemoActivities
from .workflows import MakeVideo, MakeVideos

TASK_QUEUE = "nemo-video"
"""The default task queue of the video workflows."""


def create_worker(
    client: Client,
    nemo: NemoClient,
    *,
    task_queue: str = TASK_QUEUE,
    max_task_queue_activities_per_second: float | None = None,
    **options: Any,
) -> Worker:
    """A Temporal worker for :class:`MakeVideo` and :class:`MakeVideos`.

    ``max_task_queue_activities_per_second`` is Temporal's task-queue rate limit:
    it caps the activities the whole fleet starts per second on this queue (every
    worker should pass the same value), which bounds the request rate the service
    sees. ``options`` go to ``temporalio.worker.Worker``.

    Raises:
        ConfigurationError: ``nemo`` would use an anonymous token (before any work).
    """
    activities = NemoActivities(nemo)
    # The workflows' module sits in nemo_sdk, whose modules (and aiohttp, pydantic...)
    # would be imported again in the sandbox for every workflow run: pass them through.
    # The workflow code itself only uses temporalio and the dataclasses of _types.
    options.setdefault(
        "workflow_runner",
        SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("nemo_sdk")
        ),
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MakeVideo, MakeVideos],
        activities=activities.all(),
        max_task_queue_activities_per_second=max_task_queue_activities_per_second,
        **options,
    )
