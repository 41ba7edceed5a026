"""Durable video jobs on Temporal (extra ``temporal``: ``pip install nemo-sdk[temporal]``).

:class:`MakeVideo` makes one video (session, one generation, export under a
render id derived from the workflow id, wait with heartbeats, download);
:class:`MakeVideos` runs many as child workflows. :func:`create_worker` builds
a worker on one ``NemoClient`` holding the fleet's shared token.
"""

from __future__ import annotations

from ._types import BatchJob, BatchOutcome, VideoJob, VideoResult
from .activities import NemoActivities, to_application_error
from .worker import TASK_QUEUE, create_worker
from .workflows import AT_MOST_ONCE, MakeVideo, MakeVideos, render_id_for

__all__ = [
    "AT_MOST_ONCE",
    "TASK_QUEUE",
    "BatchJob",
    "BatchOutcome",
    "MakeVideo",
    "MakeVideos",
    "NemoActivities",
    "VideoJob",
    "VideoResult",
    "create_worker",
    "render_id_for",
    "to_application_error",
]
