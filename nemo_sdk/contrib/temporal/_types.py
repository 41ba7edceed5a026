"""Inputs and outputs of the Temporal workflows and activities (plain dataclasses).

Temporal's default data converter handles dataclasses; this module imports
nothing but the standard library, so workflow code can load it in the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VideoJob:
    """One video to make: the prompt and how to deliver it.

    Attributes:
        prompt: what to generate (sent as one chat message, at most once).
        out_dir: a directory every worker can write (shared storage); ``None``
            hands back the output URL instead of downloading.
        language: the session's language.
        format / quality: the export's output.
        watch_first / watch_every / watch_reads: the API's drop rule for a
            generation whose sending step failed: first state read after
            ``watch_first`` s, then every ``watch_every`` s, give up after
            ``watch_reads`` unchanged reads (API.md: 30, 60, 5).
        poll_interval: seconds between render polls.
        heartbeat_timeout: seconds without a heartbeat before Temporal moves a
            step to another worker.
    """

    prompt: str
    out_dir: str | None = None
    language: str = "en"
    format: str = "mp4"
    quality: str = "high"
    watch_first: float = 30.0
    watch_every: float = 60.0
    watch_reads: int = 5
    poll_interval: float = 10.0
    heartbeat_timeout: float = 60.0
    render_timeout: float = 3600.0


@dataclass
class VideoResult:
    """What one job made."""

    job_id: str
    session_id: str
    render_id: str
    output_url: str | None
    path: str | None = None
    size: int | None = None


@dataclass
class BatchJob:
    """Many videos: each runs as a child workflow, at most ``concurrency`` at once."""

    jobs: list[VideoJob] = field(default_factory=list)
    concurrency: int = 10


@dataclass
class BatchOutcome:
    """One child's result, or its error's type and message."""

    job_id: str
    result: VideoResult | None = None
    error_type: str | None = None
    error: str | None = None


@dataclass
class SendInput:
    session_id: str
    prompt: str


@dataclass
class RenderInput:
    session_id: str
    render_id: str
    format: str = "mp4"
    quality: str = "high"


@dataclass
class WaitInput:
    render_id: str
    poll_interval: float = 10.0
    timeout: float = 3600.0


@dataclass
class RenderDone:
    render_id: str
    output_url: str | None


@dataclass
class DownloadInput:
    render_id: str
    path: str


@dataclass
class Downloaded:
    path: str
    size: int
