"""The main job in one await, and its batch and iterative forms (the seed's "Common Workflows").

Each workflow is a plain function of a :class:`~nemo_sdk.NemoClient`, also bound
on the client (``nemo.generate_and_export(...)``). They only compose the
resources; every wire rule (retries, the no-text rule, the journal, resumable
downloads) stays where the resources keep it.

Nothing is lost when a workflow fails or its task is cancelled: the session id
and the render id are reported the moment they exist, an export stays in the
render journal until its file is downloaded (``nemo.renders.pending()``), and a
download only ever leaves a resumable ``.part`` file beside the target.

One run per output path: a workflow that writes ``out`` holds an OS lock of it
(``.<name>.job.lock`` beside it) from before its first request until the file is
placed or the run fails, so two runs of one job (two tasks, or two processes a
queue delivered it to) take turns; the second finishes what the first left
(see :func:`generate_and_export`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs

from . import errors
from ._chat.handlers import merge_handlers, report_progress
from ._files import download as _download
from ._http import telemetry as _telemetry
from ._rules import arguments as _arguments
from ._rules.export_options import ExportFormat, ExportQuality
from ._rules.scopes import export_refusal
from ._rules.spend import watch_spend
from ._util.logging import logger
from .progress import Phase, Progress, ProgressCallback

# The models are imported for type checking only: this module is bound on NemoClient,
# and ``from nemo_sdk import NemoClient`` defines no pydantic model (see client.py).
if TYPE_CHECKING:
    from ._chat.handlers import EventHandler
    from ._chat.reply import ChatReply
    from .models.draft import Draft
    from .models.render import RenderJob
    from .models.session import Session
    from .resources.auth import Auth
    from .resources.chat import Chat
    from .resources.credits import Credits
    from .resources.renders import Renders
    from .resources.sessions import Sessions
    from .resources.state import State
    from .resources.uploads import Uploads, UploadSource

__all__ = [
    "BatchItem",
    "BatchResult",
    "GenerateResult",
    "Iteration",
    "WorkflowClient",
    "batch",
    "generate_and_export",
    "iterate",
]


class WorkflowClient(Protocol):
    """What the workflows use of a client: its resources. :class:`~nemo_sdk.NemoClient` is one.

    The workflows are typed against this, not the client that binds them, so that the
    two modules do not import each other.
    """

    @property
    def auth(self) -> Auth: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def chat(self) -> Chat: ...
    @property
    def state(self) -> State: ...
    @property
    def uploads(self) -> Uploads: ...
    @property
    def renders(self) -> Renders: ...
    @property
    def credits(self) -> Credits: ...


_ASPECT = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{1,2})\s*$")
_ASKS_TO_GENERATE = re.compile(r"\b(?:generate|create)\b|生成", re.I)
_GO_AHEAD = "Please go ahead and generate the video now with your best judgement."


@attrs.frozen(kw_only=True)
class GenerateResult:
    """What :func:`generate_and_export` made.

    Attributes:
        path: the downloaded file.
        render: the finished render job.
        session_id: the session; chat on in it, or open it in the browser.
        reply: the agent's reply to the last message.
        draft: the timeline that was rendered.
        credits_spent: the balance's drop over the run; ``None`` when it cannot be
            this run's own cost: another run overlapped it on the same client (or in
            a batch, whose items share one balance), or the balance was unreadable.
    """

    path: Path
    render: RenderJob
    session_id: str
    reply: ChatReply
    draft: Draft
    credits_spent: int | None = None


@attrs.frozen(kw_only=True)
class Iteration:
    """What :func:`iterate` changed.

    Attributes:
        session_id: the session.
        reply: the agent's reply (``reply.summary`` says what changed when it sent no text).
        draft: the timeline after the instruction.
        timeline: ``draft`` as a one-line summary (``Timeline (3 tracks): ...``).
        result: the export, when one was asked for.
    """

    session_id: str
    reply: ChatReply
    draft: Draft
    timeline: str
    result: GenerateResult | None = None

    @property
    def changed(self) -> bool:
        """The instruction changed the timeline."""
        return self.reply.draft_changed


@attrs.frozen(kw_only=True)
class BatchItem:
    """One piece of work of :func:`batch`.

    Attributes:
        prompt: what to generate, or with ``files`` the edit to make to them.
        files: media to upload into the item's session first.
        out: where to save the MP4 (default ``<out_dir>/batch_<n>.<format>``).
    """

    prompt: str
    files: Sequence[UploadSource] = ()
    out: str | Path | None = None


@attrs.frozen(kw_only=True)
class BatchResult:
    """One item's outcome, at the item's index.

    Attributes:
        index: the item's position in the input.
        item: the item.
        result: the result, when it worked.
        error: the exception, when it did not (the other items went on).
    """

    index: int
    item: BatchItem
    result: GenerateResult | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """The item produced its file."""
        return self.error is None


# ---------------------------------------------------------------- checks (nothing sent)


def _check_prompt(prompt: object) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise errors.InvalidArgumentError("the prompt must be a non-empty string")
    return prompt.strip()


def _check_out(out: str | Path, overwrite: bool) -> Path:
    target = Path(out)
    if target.is_dir():
        raise errors.InvalidArgumentError(
            f"{target} is a directory; give a file path for the video"
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent} does not exist")
    if target.exists() and not overwrite:
        raise errors.file_exists(target)
    _download.check_name_fits(target)  # before credits are spent, not at the download
    return target


def _check_output(output: _Output) -> _Output:
    _arguments.output_options(output.format, output.quality, None, None, None)
    _arguments.optional_positive("poll_interval", output.poll_interval)
    _arguments.optional_non_negative("render_timeout", output.render_timeout)
    return output


def _check_aspect(aspect: str | None) -> str | None:
    if aspect is None:
        return None
    match = _ASPECT.match(aspect)
    if match is None or 0 in (int(match.group(1)), int(match.group(2))):
        raise errors.InvalidArgumentError(f"aspect must look like '16:9' or '9:16', not {aspect!r}")
    return f"{int(match.group(1))}:{int(match.group(2))}"


def generation_message(prompt: str, aspect: str | None = None) -> str:
    """The chat message that asks the agent to generate ``prompt``.

    The agent acts on instructions ("concrete instructions get better results",
    says the skill), so a bare description is sent as ``generate <prompt>``.
    """
    text = prompt if _ASKS_TO_GENERATE.search(prompt) else f"generate {prompt}"
    return f"{text}, aspect ratio {aspect}" if aspect else text


# ---------------------------------------------------------------- steps


@attrs.define
class _Run:
    """One workflow run's reporting: who hears, and the ids known so far."""

    callback: ProgressCallback | None
    handlers: list[EventHandler]
    session_id: str | None = None
    render_id: str | None = None
    item: int | None = None
    _last: tuple[str, int] | None = None
    trace: _telemetry.Phases = _telemetry.NO_PHASES  # the run's spans, when tracing is on

    async def __call__(self, phase: Phase, percent: float | None = None, message: str = "") -> None:
        self.trace.at(phase, self.session_id, self.render_id, self.item)
        # Whole percents only: a download reports per chunk, a person needs far less.
        key = (phase, -1 if percent is None else int(percent))
        if key == self._last:
            return
        self._last = key
        progress = Progress(
            phase=phase,
            percent=percent,
            session_id=self.session_id,
            render_id=self.render_id,
            message=message,
            item=self.item,
        )
        await report_progress(progress, self.callback, self.handlers)


async def _session_id(nemo: WorkflowClient, session: Session | str | None, language: str) -> str:
    if isinstance(session, str):
        return session
    if session is not None:
        return session.id
    return (await nemo.sessions.create(language=language)).id


async def _chat_until_exportable(
    nemo: WorkflowClient, run: _Run, message: str, max_turns: int
) -> tuple[ChatReply, Draft]:
    """Chat until the session's draft can be exported; an agent may first ask a question."""
    assert run.session_id is not None
    text = message
    for turn in range(1, max_turns + 1):
        await run("generating", None, f"turn {turn}: {text[:60]}")
        reply = await nemo.chat.send(run.session_id, text, handlers=run.handlers)
        draft = (await nemo.state.get(run.session_id)).draft
        if draft is not None and draft.is_exportable:
            return reply, draft
        text = _GO_AHEAD
    said = (reply.text or "nothing").strip()[:300]
    raise errors.DraftNotExportableError(
        f"the agent made no timeline in {max_turns} turn(s) of session {run.session_id}; "
        f"it said: {said}"
    )


@attrs.frozen
class _Output:
    """How a workflow exports, waits and saves (the same for every item of a batch)."""

    overwrite: bool = False
    format: ExportFormat = "mp4"
    quality: ExportQuality = "high"
    poll_interval: float | None = None
    render_timeout: float | None = None


async def _export_and_fetch(
    nemo: WorkflowClient, run: _Run, draft: Draft, target: Path, output: _Output
) -> tuple[RenderJob, Path]:
    """Export ``draft``, wait for the render, download it to ``target``; report ``done``."""
    assert run.session_id is not None
    run.trace.at("rendering", run.session_id)  # the export request is the rendering's
    job = await nemo.renders.export(
        run.session_id, draft, format=output.format, quality=output.quality, download_to=target
    )
    run.render_id = job.id
    await run("rendering", 0.0, f"render {job.id} started")
    return await _wait_and_fetch(nemo, run, job, target, output)


async def _wait_and_fetch(
    nemo: WorkflowClient, run: _Run, job: RenderJob, target: Path, output: _Output
) -> tuple[RenderJob, Path]:
    """Wait for ``job``, download it to ``target``; report ``done``."""

    async def rendering(current: RenderJob) -> None:
        await run("rendering", current.progress, current.status)

    job = await nemo.renders.wait(
        job.id,
        poll_interval=output.poll_interval,
        timeout=output.render_timeout,
        on_progress=rendering,
    )
    await run("downloading", 0.0, f"downloading to {target}")

    async def downloading(done: int, total: int | None) -> None:
        await run("downloading", 100.0 * done / total if total else None)

    path = await nemo.renders.download(
        job.id, target, overwrite=output.overwrite, on_progress=downloading
    )
    await run("done", 100.0, str(path))
    return job, path


@contextlib.asynccontextmanager
async def _one_run_per_out(target: Path) -> AsyncIterator[None]:
    """Hold the OS lock of ``target``'s job (``.<name>.job.lock``) across processes.

    Two runs with the same ``out`` (a queue that delivered the job twice, two tasks)
    take turns: the second waits, polling without blocking the loop (a cancel stops
    the wait), until the first placed the file or failed; a killed holder's lock
    dies with it. Taken before anything is sent, so the second run starts from what
    the first left: a file at ``out`` or a journaled render for it.
    """
    async with _download.exclusive(_download.job_lock_path(target), remove=True):
        yield


async def _resume_or_refuse(
    nemo: WorkflowClient, run: _Run, target: Path, output: _Output, session_id: str | None
) -> tuple[RenderJob, Path] | None:
    """Finish a render an earlier run of this job left journaled for ``target``, if any.

    Called with the job lock held. A journal entry whose path is ``target`` (of
    ``session_id``'s session, when the run names one) is a run killed or failed after
    its export: its render is downloaded, not paid for again. Without one, a file
    that appeared at ``target`` while this run waited is refused as at the start.
    """
    from ._files.journal import absolute  # imports the models: not at the client's import

    where = absolute(target)
    for entry in await nemo.renders.pending():
        if entry.path != where or session_id not in (None, entry.session_id):
            continue
        rid = entry.render_id
        run.session_id, run.render_id = entry.session_id, rid
        await run("rendering", None, f"render {rid} resumed (journaled for {target})")
        try:
            job = await nemo.renders.get(rid)
            return await _wait_and_fetch(nemo, run, job, target, output)
        except (errors.RenderFailedError, errors.NotFoundError) as exc:
            if any(e.render_id == rid for e in await nemo.renders.pending()):
                raise  # still journaled: the service holds a render this run cannot place
            # Failed (or never made), and dropped from the journal: run the job afresh.
            logger.info("journaled render %s for %s gone (%s); running the job", rid, target, exc)
            run.render_id = None
    # One stat of a local path, once per run: a hop to a thread would cost more than it.
    if target.exists() and not output.overwrite:  # noqa: ASYNC240
        raise errors.file_exists(
            target, ": another run of this job placed it while this one waited for the job's lock"
        )
    return None


async def _balance(nemo: WorkflowClient) -> int | None:
    try:
        return (await nemo.credits.balance()).available
    except errors.NemoError:
        return None  # the spend is a nicety; never fail finished work over it


# ---------------------------------------------------------------- workflows


async def generate_and_export(
    nemo: WorkflowClient,
    prompt: str,
    out: str | Path = "video.mp4",
    *,
    language: str = "en",
    aspect: str | None = None,
    session: Session | str | None = None,
    handler: EventHandler | None = None,
    handlers: Sequence[EventHandler] = (),
    on_progress: ProgressCallback | None = None,
    poll_interval: float | None = None,
    render_timeout: float | None = None,
    overwrite: bool = False,
    format: ExportFormat = "mp4",
    quality: ExportQuality = "high",
    max_turns: int = 2,
) -> GenerateResult:
    """Generate a video from ``prompt``, export it, wait and download it to ``out``.

    The token is the client's (or an anonymous one); a new session is made
    unless ``session`` is given. Progress goes, phase by phase (connecting,
    generating, rendering n%, downloading n%, done), to ``on_progress`` and to
    the handlers' ``on_progress``; the handlers also see every chat event.

    Cancelling the awaiting task leaves the render in the journal
    (``nemo.renders.pending()``) and no file at ``out``: resume with
    ``nemo.renders.download(render_id, out)``.

    One run per ``out``: another run writing the same path (a task, or a process
    a queue delivered the job to twice) is waited for first, without blocking the
    event loop. A render journaled for ``out`` (a run killed or failed after its
    export; of ``session``, when given) is then downloaded instead of generating
    again: the result's ``reply`` is empty and ``credits_spent`` is 0. When the
    other run placed the file, ``FileExistsError`` is raised as for a file there at
    the start: for a queue, the job is done.

    Args:
        prompt: what to make; sent as ``generate <prompt>`` unless it asks already.
        out: where to save the file; an existing file is refused unless ``overwrite``.
        language: the new session's language.
        aspect: a canvas ratio such as ``"9:16"``, asked of the agent.
        session: an existing session (or its id) to work in.
        handler: an event handler for the chat turns and the progress.
        handlers: more event handlers, run in order after ``handler``.
        on_progress: called with a :class:`~nemo_sdk.Progress` at each step.
        poll_interval: seconds between render polls (the client's by default).
        render_timeout: the render's overall deadline (the client's by default).
        overwrite: replace an existing file at ``out``.
        format: the export's container (``mp4``).
        quality: the export's quality (``high``).
        max_turns: chat turns to get a timeline (an agent may ask a question first).

    Raises:
        InvalidArgumentError, FileExistsError: bad input (nothing sent).
        FileExistsError: another run of this ``out`` placed the file while this
            one waited (nothing sent).
        DraftNotExportableError: the agent made no timeline in ``max_turns`` turns.
        NemoError: any API error of the steps (see the resources).
    """
    text = generation_message(_check_prompt(prompt), _check_aspect(aspect))
    target = _check_out(out, overwrite)
    if max_turns < 1:
        raise errors.InvalidArgumentError("max_turns must be at least 1")
    output = _check_output(_Output(overwrite, format, quality, poll_interval, render_timeout))
    run = _Run(on_progress, merge_handlers(handler, handlers))
    run.trace = _telemetry.workflow("generate_and_export")
    named = session if isinstance(session, str) or session is None else session.id
    async with run.trace, _one_run_per_out(target):
        with watch_spend(nemo) as spend:  # another run at once: its cost is not this one's
            await run("connecting", None, "connecting")
            before = await _balance(nemo)  # also fetches the token, if there is none yet
            resumed = await _resume_or_refuse(nemo, run, target, output, named)
            if resumed is not None:
                job, path = resumed
                assert run.session_id is not None
                reply, draft = await _resumed_turn(nemo, run.session_id)
            else:
                refusal = export_refusal(nemo.auth.scopes)
                if refusal is not None:  # the export would be refused after credits are spent
                    raise errors.ExportBlockedError(refusal)
                run.trace.at("session")
                run.session_id = await _session_id(nemo, session, language)
                reply, draft = await _chat_until_exportable(nemo, run, text, max_turns)
                job, path = await _export_and_fetch(nemo, run, draft, target, output)
            after = await _balance(nemo)
    spent = spend.spent(before, after)
    return GenerateResult(
        path=path,
        render=job,
        session_id=run.session_id,
        reply=reply,
        draft=draft,
        credits_spent=spent,
    )


async def iterate(
    nemo: WorkflowClient,
    session_id: str,
    instruction: str,
    *,
    export: bool = False,
    out: str | Path = "video.mp4",
    overwrite: bool = False,
    handler: EventHandler | None = None,
    handlers: Sequence[EventHandler] = (),
    on_progress: ProgressCallback | None = None,
    poll_interval: float | None = None,
    render_timeout: float | None = None,
) -> Iteration:
    """Apply ``instruction`` to the session's timeline; export it too when ``export``.

    The session keeps its timeline between calls, so a rough cut can be refined
    step by step (the skill's "Iterative" workflow). With ``export``, one run per
    ``out`` as in :func:`generate_and_export`: a render of this session journaled
    for ``out`` (an earlier run of this call, killed after its export) is
    downloaded without sending ``instruction`` again.
    """
    text = _check_prompt(instruction)
    target = _check_out(out, overwrite) if export else None
    output = _check_output(
        _Output(overwrite, poll_interval=poll_interval, render_timeout=render_timeout)
    )
    run = _Run(on_progress, merge_handlers(handler, handlers), session_id=session_id)
    run.trace = _telemetry.workflow("iterate")
    from .models.draft import Draft
    from .timeline import format_timeline

    result = None
    async with run.trace, _one_run_per_out(target) if target else contextlib.nullcontext():
        resumed = None
        if target is not None:
            resumed = await _resume_or_refuse(nemo, run, target, output, session_id)
        if resumed is not None:  # an earlier run applied the instruction and exported
            reply, draft = await _resumed_turn(nemo, session_id)
        else:
            await run("generating", None, text[:60])
            reply = await nemo.chat.send(session_id, text, handlers=run.handlers)
            draft = (await nemo.state.get(session_id)).draft or Draft()
            if target is not None:
                resumed = await _export_and_fetch(nemo, run, draft, target, output)
        if resumed is not None:
            job, path = resumed
            result = GenerateResult(
                path=path, render=job, session_id=session_id, reply=reply, draft=draft
            )
    return Iteration(
        session_id=session_id,
        reply=reply,
        draft=draft,
        timeline=format_timeline(draft),
        result=result,
    )


async def _resumed_turn(nemo: WorkflowClient, session_id: str) -> tuple[ChatReply, Draft]:
    """The reply and draft of a resumed run: no turn of its own, the session's draft."""
    from ._chat.reply import ChatReply
    from .models.draft import Draft

    draft = (await nemo.state.get(session_id)).draft or Draft()
    return ChatReply(session_id=session_id), draft


def _batch_items(
    items: Iterable[str | BatchItem], out_dir: Path, format: str, overwrite: bool
) -> list[tuple[BatchItem, Path]]:
    if not out_dir.is_dir():
        raise FileNotFoundError(f"{out_dir} does not exist")
    checked: list[tuple[BatchItem, Path]] = []
    seen: set[Path] = set()
    for index, raw in enumerate(items):
        item = BatchItem(prompt=raw) if isinstance(raw, str) else raw
        if not isinstance(item, BatchItem):
            raise errors.InvalidArgumentError(f"item {index}: give a prompt or a BatchItem")
        _check_prompt(item.prompt)
        out = Path(item.out) if item.out is not None else out_dir / f"batch_{index:03d}.{format}"
        target = _check_out(out, overwrite)
        if target.resolve() in seen:
            raise errors.InvalidArgumentError(
                f"item {index}: {target} is the output of another item"
            )
        seen.add(target.resolve())
        checked.append((item, target))
    return checked


async def batch(
    nemo: WorkflowClient,
    items: Iterable[str | BatchItem],
    *,
    concurrency: int = 4,
    shared_session: bool = False,
    language: str = "en",
    out_dir: str | Path = ".",
    overwrite: bool = False,
    handler: EventHandler | None = None,
    handlers: Sequence[EventHandler] = (),
    on_progress: ProgressCallback | None = None,
    poll_interval: float | None = None,
    render_timeout: float | None = None,
    format: ExportFormat = "mp4",
    quality: ExportQuality = "high",
) -> list[BatchResult]:
    """Run many prompts (and/or files with an instruction), each to its own render.

    Each item gets its own session, or with ``shared_session`` all share one
    (the skill's "batch style": one item's turn at a time in the session, each
    with its own export, while earlier renders go on). At most ``concurrency``
    items run at once. One item's failure does not stop the others: the results
    come back in input order, each with its result or its error. Every item is
    checked before anything is sent. ``on_progress`` and the handlers hear every
    item; ``Progress.item`` is the item's index (as ``BatchResult.index``).
    Each item is one run of its ``out`` as in :func:`generate_and_export` (a
    render journaled for it is downloaded; a file another run placed meanwhile is
    the item's ``FileExistsError``).
    """
    if concurrency < 1:
        raise errors.InvalidArgumentError("concurrency must be at least 1")
    work = _batch_items(items, Path(out_dir), format, overwrite)
    all_handlers = merge_handlers(handler, handlers)
    output = _check_output(_Output(overwrite, format, quality, poll_interval, render_timeout))
    gate = asyncio.Semaphore(concurrency)
    shared: str | None = None
    turn_lock = asyncio.Lock()  # one chat turn at a time in a shared session
    if shared_session and work:
        shared = (await nemo.sessions.create(language=language)).id

    async def one(index: int, item: BatchItem, target: Path) -> BatchResult:
        run = _Run(on_progress, all_handlers, session_id=shared, item=index)
        run.trace = _telemetry.workflow("batch_item")
        try:
            async with _one_run_per_out(target), gate, run.trace:
                job, path, reply, draft = await item_run(run, item, target)
        except Exception as exc:
            return BatchResult(index=index, item=item, error=exc)
        assert run.session_id is not None
        result = GenerateResult(
            path=path, render=job, session_id=run.session_id, reply=reply, draft=draft
        )
        return BatchResult(index=index, item=item, result=result)

    async def item_run(
        run: _Run, item: BatchItem, target: Path
    ) -> tuple[RenderJob, Path, ChatReply, Draft]:
        resumed = await _resume_or_refuse(nemo, run, target, output, None)
        if resumed is not None:
            assert run.session_id is not None
            return (*resumed, *await _resumed_turn(nemo, run.session_id))
        if run.session_id is None:
            run.trace.at("session", item=run.item)
            run.session_id = (await nemo.sessions.create(language=language)).id
        async with turn_lock if shared else contextlib.nullcontext():
            if item.files:
                await nemo.uploads.upload(run.session_id, list(item.files))
            text = item.prompt if item.files else generation_message(item.prompt)
            reply, draft = await _chat_until_exportable(nemo, run, text, 1)
        job, path = await _export_and_fetch(nemo, run, draft, target, output)
        return job, path, reply, draft

    async with _telemetry.workflow("batch"):
        return list(
            await asyncio.gather(*(one(i, item, out) for i, (item, out) in enumerate(work)))
        )
