"""Where the ``nemo`` command writes: results on stdout, everything else on stderr.

With ``--json`` stdout carries exactly one JSON document (the result, or
``{"error": {...}}``); notices, progress and the agent's live text go to
stderr, so ``nemo --json ... | jq`` always works.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import click
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.text import Text

from .bars import Bars, PlainBars, RichBars, SilentBars
from .exits import ExitCode, Failure

__all__ = ["Output", "saved"]

_PIPE_WIDTH = 160


def saved(path: object, detail: str = "") -> Text:
    """``saved <path> <detail>``, the word in green."""
    return Text.assemble(("saved", "bold green"), f" {path}{detail}")


class Output:
    """The two streams of one command, and its ``--json`` switch."""

    def __init__(self, *, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        # No file given: rich looks sys.stdout/sys.stderr up at each print, so output
        # follows whatever the streams are at the time (click's test runner swaps them).
        # soft_wrap: a long line (an id, a path, a URL) stays whole when piped.
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        for console in (self.out, self.err):
            if not console.is_terminal:
                # Piped or saved, a table keeps its ids whole (no 80-column folding).
                console.width = max(console.width, _PIPE_WIDTH)
        self._emitted = False

    # ------------------------------------------------------------------ results

    def result(self, doc: dict[str, Any], *human: RenderableType) -> None:
        """The command's result: ``doc`` with ``--json``, else the renderables.

        Strings are printed as they are (a title "[Intro]" is no markup); style
        with :func:`saved` or rich ``Text``.
        """
        if self.json_mode:
            self.emit_json(doc)
        else:
            for item in human:
                self.out.print(item, markup=not isinstance(item, str))

    def emit_json(self, doc: dict[str, Any]) -> None:
        """Write ``doc`` as the one JSON document on stdout (later calls are ignored)."""
        if self._emitted:
            return
        self._emitted = True
        click.echo(json.dumps(doc, ensure_ascii=False, default=str, indent=2))

    def line(self, text: str, *, style: str | None = None) -> None:
        """A line of the human result on stdout (nothing with ``--json``)."""
        if not self.json_mode:
            self.out.print(escape(text), style=style)

    # ------------------------------------------------------------------ stderr

    def note(self, text: str, *, style: str = "dim") -> None:
        """A notice for people, on stderr."""
        self.err.print(escape(text), style=style)

    def failure(self, failure: Failure, *, extra: dict[str, Any] | None = None) -> None:
        """Report a failure: one line on stderr, and the error document with ``--json``."""
        label = "Interrupted" if failure.code is ExitCode.INTERRUPTED else "Error"
        self.err.print(f"[bold red]{label}:[/] {escape(failure.message)}")
        if self.json_mode:
            error = {
                "message": failure.message,
                "exit_code": int(failure.code),
                **failure.fields,
                **(extra or {}),
            }
            self.emit_json({"error": error})

    def traceback(self, exc: BaseException) -> None:
        """The full traceback of ``exc`` on stderr (``--debug``)."""
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

    def bars(self) -> Bars:
        """Progress bars on stderr: live on a terminal, plain lines when piped.

        With ``--json`` and stderr not a terminal there is nobody to watch them.
        """
        if self.err.is_terminal:
            return RichBars(self.err)
        return SilentBars(self.err) if self.json_mode else PlainBars(self.err)
