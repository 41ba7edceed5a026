"""What every ``nemo`` command shares: its settings, its client, and how it ends.

:func:`run` drives one command's coroutine with ``asyncio.run`` and turns
whatever escapes it into an exit code (:mod:`.exits`) and one line on stderr;
:func:`run_with_bars` adds the connected client and the progress bars that the
long commands (generate, export, upload, renders wait/download) share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import attrs
import click

from .._util.logging import logger
from ..client import NemoClient
from ..config import RenderSettings
from .bars import Bars
from .exits import ExitCode, Failure, describe
from .output import Output

__all__ = ["Settings", "Tracker", "connect", "run", "run_with_bars"]

_T = TypeVar("_T")

_EMPTY_EMULATOR = (
    "each --emulator run starts an empty emulator: serve one with `nemo emulator` "
    "and pass --api-url to keep sessions between commands"
)


@attrs.frozen(kw_only=True)
class Settings:
    """The group's global options."""

    emulator: bool = False
    json: bool = False
    debug: bool = False
    api_url: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    poll_interval: float | None = None

    def command(self, *words: str) -> str:
        """``nemo <words>`` as the user should type it again (with the same API URL)."""
        prefix = ["nemo"]
        if self.api_url:
            prefix += ["--api-url", self.api_url]
        return shlex.join([*prefix, *words])


@attrs.define
class Tracker:
    """The ids a command has seen so far: what to tell the user when it is interrupted."""

    target: Path | None = None
    session_id: str | None = None
    render_id: str | None = None
    out: Path | None = None
    """Where the user asked for the video (``-o``), for the hint's export command."""


@contextlib.asynccontextmanager
async def connect(
    settings: Settings, out: Output, *, need_token: bool = True
) -> AsyncIterator[NemoClient]:
    """A client for the command: against the embedded emulator, or the configured API.

    Without ``--token`` / ``NEMO_TOKEN`` the anonymous token is kept between runs (the
    SDK's ``token_cache``): every command is a new process, and the service gives one
    anonymous token per client id per 7 days. ``need_token=False`` fetches none (local
    commands).
    """
    if settings.emulator:
        async with _embedded(settings, out) as nemo:
            yield nemo
        return
    async with NemoClient(
        base_url=settings.api_url,
        token=settings.token,
        # On unless NEMO_TOKEN_CACHE names another file (or turns it off).
        token_cache=None if os.environ.get("NEMO_TOKEN_CACHE") else True,
        render_settings=(
            None
            if settings.poll_interval is None
            else RenderSettings(poll_interval=settings.poll_interval)
        ),
    ) as nemo:
        if need_token:
            await nemo.auth.ensure_token()
        yield nemo


@contextlib.asynccontextmanager
async def _embedded(settings: Settings, out: Output) -> AsyncIterator[NemoClient]:
    try:
        from ..emulator import Emulator  # noqa: F401 - the extra's check, before anything starts
    except ImportError as exc:
        raise click.UsageError(
            f"--emulator needs the emulator extra ({exc}): pip install 'nemo-sdk[emulator]'"
        ) from exc
    from ..offline import embedded_client  # the demo emulator's settings (offline.DEMO_KNOBS)

    options: dict[str, Any] = {"token": settings.token}
    if settings.poll_interval:  # else the embedded emulator's (it renders in about a second)
        options["render_settings"] = RenderSettings(poll_interval=settings.poll_interval)
    async with embedded_client(note=out.note, client_options=options) as nemo:
        yield nemo


def resume_hint(settings: Settings, tracker: Tracker) -> str | None:
    """What to type to pick up where an interrupted command stopped."""
    if settings.emulator:
        return "the embedded emulator stopped with this process: there is nothing to resume"
    if tracker.render_id and tracker.target is not None:
        return "resume with: " + settings.command(
            "renders", "download", tracker.render_id, str(tracker.target)
        )
    if tracker.render_id:
        return "the render goes on: " + settings.command("renders", "wait", tracker.render_id)
    if tracker.session_id:
        return (
            f"session {tracker.session_id} keeps its timeline: "
            + settings.command("state", tracker.session_id)
            + ", then "
            + settings.command(
                "export",
                tracker.session_id,
                "-o",
                str(tracker.out or tracker.target or "video.mp4"),
            )
        )
    return None


async def _journal_render(settings: Settings, session_id: str) -> str | None:
    """The newest render of ``session_id`` the journal holds (no request is sent)."""
    async with NemoClient(base_url=settings.api_url) as nemo:
        pending = [p for p in await nemo.renders.pending() if p.session_id == session_id]
    return pending[-1].render_id if pending else None


def _interrupted(settings: Settings, out: Output, tracker: Tracker | None) -> NoReturn:
    tracker = tracker or Tracker()
    in_flight = tracker.target is not None  # an export or a download was under way
    if tracker.render_id is None and tracker.session_id and in_flight and not settings.emulator:
        # The export may have been sent before its id was reported: the journal has it.
        with contextlib.suppress(Exception):
            tracker.render_id = asyncio.run(_journal_render(settings, tracker.session_id))
    target = tracker.target
    what = "stopped"
    if target is not None and not target.exists():
        what = f"nothing was written to {target}"
    hint = resume_hint(settings, tracker)
    message = what + (f" — {hint}" if hint else "")
    extra: dict[str, Any] = {
        "session_id": tracker.session_id,
        "render_id": tracker.render_id,
        "resume": hint,
    }
    out.failure(Failure(ExitCode.INTERRUPTED, message, {"type": "KeyboardInterrupt"}), extra=extra)
    raise SystemExit(int(ExitCode.INTERRUPTED))


@contextlib.contextmanager
def _sdk_log(enabled: bool) -> Iterator[None]:
    """The SDK's log on stderr for one command (``--debug``)."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s nemo_sdk %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def run(
    settings: Settings,
    out: Output,
    work: Callable[[], Coroutine[Any, Any, None]],
    *,
    tracker: Tracker | None = None,
    interrupt_ok: bool = False,
) -> None:
    """Run ``work()`` to the end; a failure exits with its code (see :mod:`.exits`).

    ``interrupt_ok``: Ctrl-C is the normal way to end this command (exit 0).
    """
    try:
        with _sdk_log(settings.debug):
            asyncio.run(work())
    except KeyboardInterrupt:
        if interrupt_ok:
            return
        _interrupted(settings, out, tracker)
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:
        failure = describe(exc)
        if settings.debug:
            out.traceback(exc)
        elif failure.code is ExitCode.UNEXPECTED:
            failure = attrs.evolve(failure, message=f"{failure.message} (--debug shows where)")
        if settings.emulator and failure.code is ExitCode.NOT_FOUND:
            failure = attrs.evolve(failure, message=f"{failure.message} — {_EMPTY_EMULATOR}")
        out.failure(failure)
        raise SystemExit(int(failure.code)) from None


def run_with_bars(
    settings: Settings,
    step: Callable[[NemoClient, Bars], Awaitable[_T]],
    report: Callable[[Output, _T], None],
    *,
    tracker: Tracker | None = None,
    check: Callable[[], object] | None = None,
) -> None:
    """Run a command whose work is one long ``step`` shown with progress bars.

    ``check()`` runs first, before connecting (a taken target fails at once);
    ``step(nemo, bars)`` runs on a connected client; ``report(output, result)``
    prints what it returned. Failures end as :func:`run` ends them.
    """
    output = Output(json_mode=settings.json)

    async def work() -> None:
        if check is not None:
            check()
        async with connect(settings, output) as nemo:
            with output.bars() as bars:
                result = await step(nemo, bars)
        report(output, result)

    run(settings, output, work, tracker=tracker)
