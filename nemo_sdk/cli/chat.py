"""``nemo chat``: the agent's reply streamed as it arrives, and the user's lines routed.

A line the skill's "Matching Input to Actions" table sends elsewhere
(:func:`nemo_sdk.routing.route`: export, credits, status, upload) runs that
action at once, with no chat turn and no credits spent; everything else is a
chat turn. ``/say <text>`` sends a line to the agent whatever its words.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import threading
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.markup import escape

from .. import errors
from .._chat.reply import ChatReply
from ..client import NemoClient
from ..events import EventHandler, ToolCall, ToolResult
from ..routing import Action, SuggestedAction, route
from ..timeline import format_timeline
from . import flows, views
from .exits import describe
from .output import Output
from .runtime import Tracker

__all__ = ["ChatPrinter", "ProgressNotes", "chat_loop", "one_message"]

HELP = (
    "Type what to change and the agent does it. Run at once, with no chat turn: "
    "'export' (render and download), 'credits', 'status' (the timeline), "
    "'upload <files>'. '/say <text>' sends text to the agent as is; "
    "'/quit' (or Ctrl-D) ends."
)
_QUIT = frozenset({"/quit", "/exit", "/q"})
_UPLOAD_WORDS = frozenset({"upload", "上传"})
_HINTS = {
    Action.EXPORT: "type 'export' to render and download it",
    Action.CREDITS: "type 'credits' to see the balance",
    Action.STATE: "type 'status' to see the timeline",
    Action.UPLOAD: "type 'upload <files>' to add media",
    Action.CHAT: "describe that edit in words instead",
}


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ChatPrinter(EventHandler):
    """Shows one turn as it arrives: text on ``text``, tool traffic and notices dimmed on ``notes``.

    The text is the SDK's new reply text (``on_reply_text``): each piece once,
    whatever the wire shape or streaming mode.
    """

    def __init__(self, text: Console, notes: Console) -> None:
        self.text = text
        self.notes = notes
        self._mid_line = False

    def _write(self, piece: str) -> None:
        if not self._mid_line:
            piece = piece.lstrip("\n")  # a note already ended the line
        if piece:
            self.text.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
            self._mid_line = not piece.endswith("\n")

    def end_line(self) -> None:
        """Close the text line, so that what follows starts on its own."""
        if self._mid_line:
            self.text.print()
            self._mid_line = False

    def _note(self, text: str) -> None:
        self.end_line()
        self.notes.print(escape(text), style="dim")

    async def on_reply_text(self, text: str) -> None:
        self._write(text)

    async def on_tool_call(self, event: ToolCall) -> None:
        args = f"({_short(event.args)})" if event.args else ""
        self._note(f"  → {event.name or 'tool'}{args}")

    async def on_tool_result(self, event: ToolResult) -> None:
        self._note(f"  ← {event.name or 'tool'}: {_short(event.result)}")

    async def on_still_working(self, elapsed_seconds: float) -> None:
        minutes = elapsed_seconds / 60
        after = f" ({minutes:.0f} min)" if minutes >= 1 else ""
        self._note(f"⏳ still working...{after}")

    def finish(self, reply: ChatReply) -> None:
        """After the turn: what changed when the agent said nothing, and its suggestions."""
        self.end_line()
        if not reply.text and reply.summary:
            self.text.print(escape(f"(no text from the agent) {reply.summary}"))
        elif not reply.text:
            self.text.print("(no text from the agent, and the timeline did not change)")
        for hint in hints(reply.suggested_actions):
            self.notes.print(escape(hint), style="dim")


def hints(suggested: list[SuggestedAction]) -> list[str]:
    """One line per action the agent's reply asked for ("click Export" → type 'export')."""
    return [f"hint: “{s.phrase}” — {_HINTS[s.action]}" for s in suggested]


class ProgressNotes(EventHandler):
    """For ``generate``: the agent's messages and the still-working notices, as notes."""

    def __init__(self, note: Any) -> None:
        self._note = note
        self._pieces: list[str] = []

    def _flush(self) -> None:
        text = "".join(self._pieces).strip()
        self._pieces.clear()
        if text:
            self._note(f"agent: {_short(text, 200)}")

    async def on_reply_text(self, text: str) -> None:
        if text.startswith("\n\n"):  # the next message (or paragraph): note what came before
            self._flush()
        self._pieces.append(text)

    async def on_end(self, reply: ChatReply) -> None:
        self._flush()

    async def on_tool_call(self, event: ToolCall) -> None:
        self._flush()
        self._note(f"  → {event.name or 'tool'}")

    async def on_still_working(self, elapsed_seconds: float) -> None:
        self._note(f"⏳ still working... ({elapsed_seconds / 60:.0f} min)")


# ---------------------------------------------------------------- one line, one action


def _unique(path: Path) -> Path:
    """``path``, or ``name-2.mp4``, ``name-3.mp4``... when it exists: each export its own file."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _looks_like_path(word: str) -> bool:
    """A word the user meant as a file: a path or a name with an extension."""
    return "/" in word or "\\" in word or word.startswith("~") or bool(Path(word).suffix)


def _files_in(text: str) -> tuple[list[Path], list[str]]:
    """The words of ``text`` that name existing files, and the other words."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    files, others = [], []
    for word in words:
        path = Path(word).expanduser()
        if path.is_file():
            files.append(path)
        else:
            others.append(word)
    return files, others


class ChatSession:
    """One session's chat: runs each line as a turn or as the action it names."""

    def __init__(
        self, nemo: NemoClient, out: Output, session_id: str, out_path: Path, tracker: Tracker
    ) -> None:
        self.nemo = nemo
        self.out = out
        self.session_id = session_id
        self.out_path = out_path
        self.tracker = tracker
        self.docs: list[dict[str, Any]] = []
        # With --json the live text goes to stderr: stdout keeps its one document.
        self.printer = ChatPrinter(out.err if out.json_mode else out.out, out.err)

    async def handle(self, line: str) -> None:
        """Run one line of the user's."""
        text = line.strip()
        if text.startswith("/say "):
            await self.turn(text[5:])
            return
        if text in ("/help", "/?"):
            self.out.note(HELP, style="")
            return
        files, others = _files_in(text)
        # Only paths, or "upload" and paths: an upload even if a file is named "export.mp4".
        only_files = bool(files) and all(w.lower() in _UPLOAD_WORDS for w in others)
        picked = route(text, has_files=only_files)
        if picked.action is Action.EXPORT:
            await self.export()
        elif picked.action is Action.CREDITS:
            await self.credits()
        elif picked.action is Action.STATE:
            await self.state()
        elif picked.action is Action.UPLOAD:
            missing = [w for w in others if w.lower() not in _UPLOAD_WORDS and _looks_like_path(w)]
            await self.upload(files, missing)
        else:
            await self.turn(text)
            if picked.then is Action.EXPORT:  # "add music and export": the edit, then this
                await self.export()

    async def turn(self, text: str) -> None:
        """One chat turn, streamed."""
        printer = self.printer
        reply = await self.nemo.chat.send(self.session_id, text, handler=printer)
        printer.finish(reply)
        self.docs.append(
            {
                "action": "chat",
                "message": text,
                "text": reply.text,
                "summary": reply.summary,
                "draft_changed": reply.draft_changed,
                "interrupted": reply.interrupted,
                "tool_calls": [c.name for c in reply.tool_calls],
                "suggested_actions": [
                    {"action": s.action.value, "phrase": s.phrase} for s in reply.suggested_actions
                ],
            }
        )

    async def export(self) -> None:
        """The routed 'export': render the current draft and download it beside the others."""
        target = _unique(self.out_path)
        with self.out.bars() as bars:
            job, path = await flows.export_session(
                self.nemo, self.session_id, target, bars, self.tracker
            )
        self.tracker.target = self.tracker.render_id = None  # done: nothing to resume
        self.out.line(f"saved {path} (render {job.id})")
        self.docs.append({"action": "export", "path": str(path), "render_id": job.id})

    async def credits(self) -> None:
        """The routed 'credits'."""
        doc = views.credits_doc(await self.nemo.credits.balance())
        self.out.line(
            f"credits: {doc['available']} available, {doc['frozen']} frozen, {doc['total']} total"
        )
        self.docs.append({"action": "credits", **doc})

    async def state(self) -> None:
        """The routed 'status': the timeline."""
        state = await self.nemo.state.get(self.session_id)
        if not self.out.json_mode:
            self.out.out.print(views.timeline_table(state.draft))
        self.out.line(format_timeline(state.draft))
        self.docs.append({"action": "state", **views.state_doc(self.session_id, state)})

    async def upload(self, files: list[Path], missing: list[str] | None = None) -> None:
        """The routed 'upload <files>'; ``missing``: named files that do not exist."""
        if missing:
            raise click.UsageError(f"no such file: {', '.join(missing)} (nothing uploaded)")
        if not files:
            self.out.note("name the files to upload: upload <file> [<file>...]", style="")
            return
        with self.out.bars() as bars:
            uploaded = await flows.upload_files(self.nemo, self.session_id, files, bars)
        if not self.out.json_mode:
            self.out.out.print(views.uploads_table(uploaded))
        self.docs.append({"action": "upload", **views.uploads_doc(self.session_id, uploaded)})


# ---------------------------------------------------------------- the loops


class _LineReader:
    """Lines of stdin from a daemon thread: the loop stays free while the user types,
    and Ctrl-C is never stuck behind a blocking read."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._wanted = threading.Semaphore(0)
        threading.Thread(target=self._read, name="nemo-chat-stdin", daemon=True).start()

    def _read(self) -> None:
        while True:
            self._wanted.acquire()  # one line at a time, when the loop asks for it
            try:
                line: str | None = self._stream.readline() or None
            except (OSError, ValueError):
                line = None
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
            if line is None:
                return

    async def next(self) -> str | None:
        """The next line, ``None`` at the end of input."""
        self._wanted.release()
        return await self._queue.get()


async def chat_loop(session: ChatSession) -> None:
    """Read lines until ``/quit`` or the end of input, running each."""
    stdin = sys.stdin
    interactive = stdin.isatty()
    if interactive:
        session.out.note(f"session {session.session_id} — {HELP}")
    reader = _LineReader(stdin)
    first_error: BaseException | None = None
    while True:
        if interactive:
            session.out.err.print("[bold]›[/] ", end="")
        line = await reader.next()
        if line is None or line.strip() in _QUIT:
            break
        if not line.strip():
            continue
        try:
            await session.handle(line)
        except (errors.NemoError, OSError, click.UsageError) as exc:
            # Reported, and the session goes on; piped input (a script) still exits
            # with its first failure's status at the end.
            first_error = first_error or exc
            session.printer.end_line()
            message = (
                exc.format_message() if isinstance(exc, click.UsageError) else describe(exc).message
            )
            session.out.note(f"error: {message}", style="red")
    if first_error is not None and not interactive:
        raise first_error


async def one_message(session: ChatSession, message: str) -> None:
    """``nemo chat SESSION -m MESSAGE``: one line, routed like an interactive one."""
    await session.handle(message)
