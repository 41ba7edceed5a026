"""The ``nemo`` command: click group, global options and one function per command."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .._rules.export_options import EXPORT_FORMATS, EXPORT_QUALITIES, ExportFormat, ExportQuality
from .._version import __version__
from ..client import NemoClient
from ..models.render import RenderJob
from ..models.upload import UploadedFile
from ..progress import Progress
from ..timeline import format_timeline
from ..workflows import GenerateResult
from . import flows, views
from .bars import Bars
from .chat import ChatSession, ProgressNotes, chat_loop, one_message
from .exits import EXIT_CODES, usage_error_json
from .output import Output, saved
from .runtime import Settings, Tracker, connect, run, run_with_bars

__all__ = ["cli"]

EPILOG = "\b\nExit codes:\n" + "\n".join(
    f"  {int(code):>3}  {meaning}" for code, meaning in EXIT_CODES.items()
)

_STEPS = {
    "connecting": "connect",
    "generating": "generate",
    "rendering": "render",
    "downloading": "download",
}

out_option = click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="video.mp4",
    show_default=True,
    help="Where to save the video.",
)
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace the file at the target if there is one."
)


class _Group(click.Group):
    """The ``nemo`` group: with ``--json``, a usage error is a JSON document on stdout too."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        json_mode = "--json" in args
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if json_mode:
                usage_error_json(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if ctx.params.get("json_mode"):
                usage_error_json(exc)
            raise


@click.group(cls=_Group, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--emulator",
    is_flag=True,
    help="Run against an emulator started in this process (offline, rule-based 'AI').",
)
@click.option(
    "--json", "json_mode", is_flag=True, help="Machine output: one JSON document on stdout."
)
@click.option("--debug", is_flag=True, help="Show tracebacks and the SDK's log on errors.")
@click.option(
    "--api-url",
    metavar="URL",
    help="The API's base URL (default: $NEMO_API_URL, else the service).",
)
@click.option(
    "--token",
    metavar="TOKEN",
    help="A bearer token (default: $NEMO_TOKEN, else an anonymous one, kept between runs).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Seconds between render status polls (default: adaptive, at least 2 s apart).",
)
@click.version_option(__version__, prog_name="nemo")
@click.pass_context
def cli(
    ctx: click.Context,
    emulator: bool,
    json_mode: bool,
    debug: bool,
    api_url: str | None,
    token: str | None,
    poll_interval: float | None,
) -> None:
    """Generate, edit and export videos with the NemoVideo agent.

    \b
    Offline quick start:
      nemo --emulator generate "a sunset over the ocean" -o sunset.mp4
    """
    ctx.obj = Settings(
        emulator=emulator,
        json=json_mode,
        debug=debug,
        api_url=api_url,
        token=token,
        poll_interval=poll_interval,
    )


# ---------------------------------------------------------------- generate


@cli.command(epilog=EPILOG)
@click.argument("prompt")
@out_option
@click.option("--aspect", metavar="W:H", help="Canvas aspect ratio, e.g. 9:16.")
@click.option("--language", default="en", show_default=True, help="The new session's language.")
@click.option("--session", "session_id", metavar="SESSION", help="Work in an existing session.")
@overwrite_option
@click.pass_obj
def generate(
    settings: Settings,
    prompt: str,
    out: Path,
    aspect: str | None,
    language: str,
    session_id: str | None,
    overwrite: bool,
) -> None:
    """Generate a video from PROMPT, export it and download the MP4."""
    tracker = Tracker(target=out, session_id=session_id)

    async def make(nemo: NemoClient, bars: Bars) -> GenerateResult:
        return await nemo.generate_and_export(
            prompt,
            out,
            language=language,
            aspect=aspect,
            session=session_id,
            handler=ProgressNotes(bars.note),
            on_progress=_phase_bars(bars, tracker),
            overwrite=overwrite,
        )

    def report(output: Output, result: GenerateResult) -> None:
        timeline = format_timeline(result.draft)
        doc = {
            "path": str(result.path),
            "session_id": result.session_id,
            "render_id": result.render.id,
            "status": result.render.status,
            "credits_spent": result.credits_spent,
            "reply": result.reply.text,
            "summary": result.reply.summary,
            "timeline": timeline,
            "duration": result.draft.end_ms / 1000,
        }
        spent = "" if result.credits_spent is None else f", {result.credits_spent} credits spent"
        go_on = (
            "" if settings.emulator else f" (go on: {settings.command('chat', result.session_id)})"
        )
        output.result(
            doc,
            saved(result.path),
            f"  session {result.session_id}{go_on}{spent}",
            f"  render  {result.render.id}",
            f"  {timeline}",
        )

    run_with_bars(
        settings, make, report, tracker=tracker, check=lambda: flows.check_target(out, overwrite)
    )


def _phase_bars(bars: Bars, tracker: Tracker) -> Callable[[Progress], None]:
    """An ``on_progress`` for generate_and_export: one bar per phase, ids into ``tracker``."""
    shown: list[str] = []

    def on_progress(progress: Progress) -> None:
        tracker.session_id = progress.session_id or tracker.session_id
        tracker.render_id = progress.render_id or tracker.render_id
        step = _STEPS.get(progress.phase)
        for earlier in shown:
            if earlier != step:
                bars.finish(earlier)
        shown[:] = [step] if step else []
        if step:
            bars.update(step, progress.percent)

    return on_progress


# ---------------------------------------------------------------- chat


@cli.command(epilog=EPILOG)
@click.argument("session_id", metavar="[SESSION]", required=False)
@click.option("-m", "--message", help="Send this one message (or run its action) and exit.")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="video.mp4",
    show_default=True,
    help="Where 'export' saves the video (name-2.mp4... when the name is taken).",
)
@click.option("--language", default="en", show_default=True, help="A new session's language.")
@click.pass_obj
def chat(
    settings: Settings, session_id: str | None, message: str | None, out: Path, language: str
) -> None:
    """Chat with the agent in SESSION (a new session when omitted).

    Lines are read from stdin until /quit or end of input. 'export', 'credits',
    'status' and 'upload <files>' run at once, without a chat turn; '/say <text>'
    sends text to the agent as it is.
    """
    output = Output(json_mode=settings.json)
    tracker = Tracker(session_id=session_id, out=out)

    async def work() -> None:
        async with connect(settings, output) as nemo:
            sid = session_id
            if sid is None:
                sid = (await nemo.sessions.create(language=language)).id
                output.note(f"new session {sid}")
            tracker.session_id = sid
            session = ChatSession(nemo, output, sid, out, tracker)
            try:
                if message is not None:
                    await one_message(session, message)
                else:
                    await chat_loop(session)
            finally:
                session.printer.end_line()
        output.result({"session_id": sid, "turns": session.docs})

    run(settings, output, work, tracker=tracker)


# ---------------------------------------------------------------- sessions, upload, state


@cli.group()
def sessions() -> None:
    """Project sessions."""


@sessions.command("create", epilog=EPILOG)
@click.option("--language", default="en", show_default=True, help="ISO language code.")
@click.pass_obj
def sessions_create(settings: Settings, language: str) -> None:
    """Create a session and print its id."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        async with connect(settings, output) as nemo:
            session = await nemo.sessions.create(language=language)
        doc = {
            "session_id": session.id,
            "task_id": session.task_id,
            "user_id": session.user_id,
            "language": session.language,
        }
        output.result(doc, session.id)

    run(settings, output, work)


@cli.command(epilog=EPILOG)
@click.argument("session_id", metavar="SESSION")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_obj
def upload(settings: Settings, session_id: str, files: tuple[Path, ...]) -> None:
    """Upload FILES (video, image, audio) into SESSION."""

    async def send(nemo: NemoClient, bars: Bars) -> list[UploadedFile]:
        return await flows.upload_files(nemo, session_id, files, bars)

    def report(output: Output, uploaded: list[UploadedFile]) -> None:
        output.result(views.uploads_doc(session_id, uploaded), views.uploads_table(uploaded))

    run_with_bars(settings, send, report)


@cli.command(epilog=EPILOG)
@click.argument("session_id", metavar="SESSION")
@click.pass_obj
def state(settings: Settings, session_id: str) -> None:
    """Show SESSION's timeline: its tracks as a table, then on one line."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        async with connect(settings, output) as nemo:
            current = await nemo.state.get(session_id)
        doc = views.state_doc(session_id, current)
        canvas = doc["canvas"] or {}
        extra = []
        if canvas.get("width") and canvas.get("height"):
            ratio = f", {canvas['aspect_ratio']}" if canvas.get("aspect_ratio") else ""
            extra.append(f"canvas {canvas['width']}x{canvas['height']}{ratio}")
        output.result(doc, views.timeline_table(current.draft), doc["timeline"], *extra)

    run(settings, output, work)


@cli.command(epilog=EPILOG)
@click.pass_obj
def credits(settings: Settings) -> None:
    """Show the credit balance."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        async with connect(settings, output) as nemo:
            doc = views.credits_doc(await nemo.credits.balance())
        output.result(
            doc,
            f"credits: {doc['available']} available, {doc['frozen']} frozen, {doc['total']} total",
        )

    run(settings, output, work)


# ---------------------------------------------------------------- export and renders


@cli.command(epilog=EPILOG)
@click.argument("session_id", metavar="SESSION")
@out_option
@overwrite_option
@click.option(
    "--format",
    "format_",
    type=click.Choice(EXPORT_FORMATS),
    default="mp4",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--quality",
    type=click.Choice(EXPORT_QUALITIES),
    default="high",
    show_default=True,
    help="Output quality.",
)
@click.pass_obj
def export(
    settings: Settings,
    session_id: str,
    out: Path,
    overwrite: bool,
    format_: ExportFormat,
    quality: ExportQuality,
) -> None:
    """Export SESSION's current timeline, wait for the render and download it."""
    tracker = Tracker(target=out, session_id=session_id)

    async def make(nemo: NemoClient, bars: Bars) -> tuple[RenderJob, Path]:
        return await flows.export_session(
            nemo,
            session_id,
            out,
            bars,
            tracker,
            overwrite=overwrite,
            format=format_,
            quality=quality,
        )

    def report(output: Output, made: tuple[RenderJob, Path]) -> None:
        job, path = made
        doc = {"path": str(path), "session_id": session_id, **views.job_doc(job)}
        output.result(doc, saved(path, f" (render {job.id})"))

    run_with_bars(
        settings, make, report, tracker=tracker, check=lambda: flows.check_target(out, overwrite)
    )


@cli.group()
def renders() -> None:
    """Render jobs: list, wait for, download or cancel them by id."""


@renders.command("pending", epilog=EPILOG)
@click.pass_obj
def renders_pending(settings: Settings) -> None:
    """List exports started and not downloaded yet (from the local journal)."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        async with connect(settings, output, need_token=False) as nemo:
            pending = await nemo.renders.pending()
        table = views.pending_table(pending) if pending else "no pending renders"
        output.result(views.pending_doc(pending), table)

    run(settings, output, work)


@renders.command("wait", epilog=EPILOG)
@click.argument("render_id", metavar="ID")
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Give up after SECONDS."
)
@click.pass_obj
def renders_wait(settings: Settings, render_id: str, timeout: float | None) -> None:
    """Wait for render ID to finish."""

    async def wait(nemo: NemoClient, bars: Bars) -> RenderJob:
        return await flows.wait_render(nemo, render_id, bars, timeout=timeout)

    def report(output: Output, job: RenderJob) -> None:
        output.result(views.job_doc(job), f"render {job.id} {job.status}")

    run_with_bars(settings, wait, report, tracker=Tracker(render_id=render_id))


@renders.command("download", epilog=EPILOG)
@click.argument("render_id", metavar="ID")
@click.argument("path", type=click.Path(path_type=Path))
@overwrite_option
@click.pass_obj
def renders_download(settings: Settings, render_id: str, path: Path, overwrite: bool) -> None:
    """Download render ID to PATH (a directory: the server names the file); resumes."""
    tracker = Tracker(target=path, render_id=render_id)

    async def fetch(nemo: NemoClient, bars: Bars) -> Path:
        return await flows.download_render(
            nemo, render_id, path, bars, tracker, overwrite=overwrite
        )

    def report(output: Output, path_saved: Path) -> None:
        output.result({"path": str(path_saved), "render_id": render_id}, saved(path_saved))

    run_with_bars(
        settings,
        fetch,
        report,
        tracker=tracker,
        check=lambda: flows.check_target(path, overwrite, directory_ok=True),
    )


@renders.command("cancel", epilog=EPILOG)
@click.argument("render_id", metavar="ID")
@click.pass_obj
def renders_cancel(settings: Settings, render_id: str) -> None:
    """Cancel render ID."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        async with connect(settings, output) as nemo:
            job = await nemo.renders.cancel(render_id)
        output.result(views.job_doc(job), f"render {job.id} {job.status}")

    run(settings, output, work)


# ---------------------------------------------------------------- emulator


@cli.command(epilog=EPILOG)
@click.option("--port", type=int, default=8765, show_default=True, help="The API's port (0: any).")
@click.option("--cdn-port", type=int, default=0, show_default=True, help="The CDN's port.")
@click.option(
    "--realistic",
    is_flag=True,
    help="The service's numbers: 100 credits per new anonymous token (one generated clip), "
    "10 tokens per IP, one live token per client id.",
)
@click.option(
    "--starting-credits",
    type=int,
    default=None,
    help="A new token's credits (100000; --realistic: 100).",
)
@click.option(
    "--render-seconds", type=float, default=1.0, show_default=True, help="How long a render takes."
)
@click.pass_obj
def emulator(
    settings: Settings,
    port: int,
    cdn_port: int,
    realistic: bool,
    starting_credits: int | None,
    render_seconds: float,
) -> None:
    """Serve the offline emulator in the foreground until Ctrl-C (python -m nemo_sdk.emulator)."""
    output = Output(json_mode=settings.json)

    async def work() -> None:
        try:
            from ..emulator import Emulator
            from ..emulator.__main__ import standalone_settings
        except ImportError as exc:
            raise click.UsageError(
                f"the emulator needs its extra ({exc}): pip install 'nemo-sdk[emulator]'"
            ) from exc
        chosen = standalone_settings(realistic=realistic, starting_credits=starting_credits)
        fresh = chosen.pop("fresh_client_tokens")
        async with Emulator(
            port=port, cdn_port=cdn_port, render_seconds=render_seconds, **chosen
        ) as emu:
            emu.store.fresh_client_tokens = fresh
            output.result(
                {"url": emu.url, "cdn_url": emu.cdn_url},
                f"NemoVideo emulator: API {emu.url}  CDN {emu.cdn_url}",
                f"  export NEMO_API_URL={emu.url}",
            )
            output.note(
                f"offline, rule-based 'AI'; {chosen['starting_credits']} credits per new token; "
                "Ctrl-C stops it"
            )
            try:
                await asyncio.Event().wait()
            finally:
                output.note("emulator stopped")

    run(settings, output, work, interrupt_ok=True)
