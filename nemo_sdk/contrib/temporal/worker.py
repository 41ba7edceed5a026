"""A worker that runs the video workflows and activities on one ``NemoClient``."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

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
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MakeVideo, MakeVideos],
        activities=activities.all(),
        max_task_queue_activities_per_second=max_task_queue_activities_per_second,
        **options,
    )
