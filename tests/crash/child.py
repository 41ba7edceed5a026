"""A crash-test job: ``generate_and_export`` (or a three-item ``batch``) that dies on cue.

    python -m tests.crash.child '<plan json>'

Run by the harness with its own ``XDG_CONFIG_HOME`` (so its own client id and render
journal). Every step the job passes is an *event* appended to the trace file, with
its phase (token, session, chat, export, poll, download, rename). Events come from
public surfaces only: the ``on_progress`` callback, an ``EventHandler``, the SDK's
debug log records, and the interpreter's audit hooks (``open`` of the ``.part``
file, ``os.link``/``os.rename``/``os.remove`` on it, ``sqlite3.connect`` of the
journal). The plan's ``kill`` says at which event of which phase the process
SIGKILLs itself (``delay`` seconds later, from a thread, when not zero), so a seed
names the same kill point on a loaded machine as on an idle one.

The trace doubles as the job store of docs/recipes/task-queue.md: ``ID`` lines hold
the session and render ids the moment ``on_progress`` reports them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

_PLACING = ("os.link", "os.rename", "os.replace", "os.remove")
PHASES = ("token", "session", "chat", "export", "poll", "download", "rename")


class Trace:
    """Events and ids, written straight to the file (nothing buffered dies with us)."""

    def __init__(self, path: str, kill: dict[str, Any] | None) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._kill = kill
        self._counts = dict.fromkeys(PHASES, 0)
        self._lock = threading.Lock()
        self.phase = "token"

    def line(self, text: str) -> None:
        os.write(self._fd, (text + "\n").encode())

    def event(self, phase: str, name: str) -> None:
        with self._lock:
            self.phase = phase
            self._counts[phase] += 1
            n = self._counts[phase]
            self.line(f"E {phase} {n} {name}")
            kill = self._kill
            if kill is None or kill["phase"] != phase:
                return
            # A plan names the n-th event of its phase, or the first one of a given name.
            if (kill["name"] not in name) if "name" in kill else (kill["n"] != n):
                return
            self._kill = None
        if kill["delay"] <= 0:
            self.line(f"K {phase} {n}")
            os.kill(os.getpid(), signal.SIGKILL)
        timer = threading.Timer(kill["delay"], self._die)
        timer.daemon = True
        timer.start()

    def _die(self) -> None:
        self.line(f"K {self.phase} after-delay")
        os.kill(os.getpid(), signal.SIGKILL)


def _log_phase(trace: Trace, what: str) -> str | None:
    method, _, path = what.partition(" ")
    if path.endswith("/anonymous-token"):
        return "token"
    if "/with-session/" in path:
        return "session"
    if path.startswith("/api/state/") or path.endswith("run_sse"):
        return "chat"
    if path.startswith("/api/credits/"):
        return "rename" if trace.phase in ("download", "rename") else "token"
    if path == "/api/render/proxy/lambda" and method == "POST":
        return "export"
    if path.startswith("/api/render/proxy/lambda/"):
        return "download" if trace.phase == "download" else "poll"
    if path.endswith("/download"):
        return "download"
    return None


class _LogEvents(logging.Handler):
    def __init__(self, trace: Trace) -> None:
        super().__init__(logging.DEBUG)
        self.trace = trace

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        # The transport's one line per answered request (a request id may follow).
        if str(record.msg).startswith("%s -> %s in %.1f ms") and args:
            phase = _log_phase(self.trace, str(args[0]))
            if phase is not None:
                self.trace.event(phase, f"log:{args[0]}->{args[1]}")


def _audit(trace: Trace, out_dir: str) -> Any:
    journal = os.path.join(os.environ["XDG_CONFIG_HOME"], "nemovideo", "renders.sqlite3")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "sqlite3.connect" and args and str(args[0]) == journal:
            phase = trace.phase
            trace.event("export" if phase == "chat" else phase, "journal")
        elif event == "open" and args and str(args[0]).endswith(".part"):
            trace.event("download", "open-part")
        elif event in _PLACING and args and str(args[0]).endswith(".part"):
            trace.event("rename", event)

    return hook


def _progress_event(trace: Trace, progress: Any) -> None:
    phase, message = progress.phase, progress.message
    if progress.session_id and progress.phase == "generating":
        trace.line(f"ID session {progress.session_id}")
    if progress.render_id and message.startswith("render "):
        trace.line(f"ID render {progress.render_id} {progress.session_id}")
    if phase == "connecting":
        trace.event("token", "progress:connecting")
    elif phase == "generating":
        trace.event("chat", "progress:generating")
    elif phase == "rendering":
        started = message.startswith("render ")
        trace.event("export" if started else "poll", f"progress:rendering:{progress.percent}")
    elif phase == "downloading":
        trace.event("download", f"progress:downloading:{progress.percent}")
    elif phase == "done":
        trace.event("rename", "progress:done")


async def _run(plan: dict[str, Any], trace: Trace) -> None:
    from nemo_sdk import EventHandler, NemoClient, RenderSettings
    from nemo_sdk.testing import FAST_CHAT, FAST_RETRY

    class Events(EventHandler):
        async def on_event(self, event: Any) -> None:
            trace.event("chat", f"event:{type(event).__name__}")

    out_dir = Path(plan["out_dir"])
    async with NemoClient(
        base_url=plan["api"],
        render_settings=RenderSettings(poll_interval=plan.get("poll", 0.02)),
        retry=FAST_RETRY,
        chat_settings=FAST_CHAT,
    ) as nemo:
        if plan["mode"] == "batch":
            results = await nemo.batch(
                plan["prompts"],
                out_dir=out_dir,
                handler=Events(),
                on_progress=lambda p: _progress_event(trace, p),
            )
            errors = [type(r.error).__name__ for r in results if r.error is not None]
            trace.line("RESULT " + ("ok" if not errors else "error " + ",".join(errors)))
        else:
            await nemo.generate_and_export(
                plan["prompts"][0],
                out_dir / plan["out"],
                handler=Events(),
                on_progress=lambda p: _progress_event(trace, p),
            )
            trace.line("RESULT ok")


def main() -> None:
    plan = json.loads(sys.argv[1])
    trace = Trace(plan["trace"], plan.get("kill"))
    sys.addaudithook(_audit(trace, plan["out_dir"]))
    sdk_log = logging.getLogger("nemo_sdk")
    sdk_log.setLevel(logging.DEBUG)
    sdk_log.addHandler(_LogEvents(trace))
    sdk_log.propagate = False
    try:
        asyncio.run(_run(plan, trace))
    except Exception as exc:  # the harness reads the outcome from the trace
        trace.line(f"RESULT error {type(exc).__name__}: {str(exc)[:200]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
