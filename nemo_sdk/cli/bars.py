"""Progress of the long steps (upload, render, download) on stderr.

Three kinds behind one interface: live rich bars on a terminal, a plain line
per quarter when stderr is a file or a pipe, nothing at all.
"""

from __future__ import annotations

from types import TracebackType
from typing import Literal

from rich.console import Console
from rich.filesize import decimal
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["Bars", "PlainBars", "RichBars", "SilentBars", "Unit"]

Unit = Literal["bytes", "percent"]


def _detail(done: float, total: float | None, unit: Unit) -> str:
    if unit == "bytes":
        return f"{decimal(int(done))} / {decimal(int(total))}" if total else decimal(int(done))
    return ""


class Bars:
    """Named steps with a completion each; the base class shows nothing."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __enter__(self) -> Bars:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def update(
        self, step: str, done: float | None, total: float | None = 100.0, unit: Unit = "percent"
    ) -> None:
        """``step`` is at ``done`` of ``total`` (``done=None``: running, amount unknown)."""

    def finish(self, step: str) -> None:
        """``step`` is complete."""

    def note(self, text: str, style: str = "dim") -> None:
        """A line printed above the bars."""
        self.console.print(escape(text), style=style)

    def close(self) -> None:
        """Stop drawing."""


class SilentBars(Bars):
    """No progress at all (``--json`` with nobody watching stderr); notes still print."""


class PlainBars(Bars):
    """A line when a step starts, at each quarter, and when it ends."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._quarter: dict[str, int] = {}

    def update(
        self, step: str, done: float | None, total: float | None = 100.0, unit: Unit = "percent"
    ) -> None:
        quarter = int(4 * done / total) if done is not None and total else 0
        if quarter >= 4:
            return  # finish() says so
        if self._quarter.get(step, -1) < quarter:
            self._quarter[step] = quarter
            percent = f" {25 * quarter}%" if done is not None and total else ""
            extra = _detail(done or 0, total, unit)
            self.console.print(escape(f"{step}{percent} {extra}".rstrip()), style="dim")

    def finish(self, step: str) -> None:
        if self._quarter.get(step) != 4:
            self._quarter[step] = 4
            self.console.print(escape(f"{step} done"), style="dim")


class RichBars(Bars):
    """Live bars on a terminal, one row per step."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def _task(self, step: str) -> TaskID:
        if not self._started:
            self._progress.start()
            self._started = True
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(escape(step), total=None, detail="")
        return self._tasks[step]

    def update(
        self, step: str, done: float | None, total: float | None = 100.0, unit: Unit = "percent"
    ) -> None:
        task = self._task(step)
        if done is None:
            self._progress.update(task, total=None)
        else:
            self._progress.update(
                task, completed=done, total=total, detail=_detail(done, total, unit)
            )

    def finish(self, step: str) -> None:
        task = self._task(step)
        total = next(t.total for t in self._progress.tasks if t.id == task) or 100.0
        self._progress.update(task, total=total, completed=total)

    def note(self, text: str, style: str = "dim") -> None:
        # Printed through the live display's console, the line lands above the bars.
        self._progress.console.print(escape(text), style=style)

    def close(self) -> None:
        if self._started:
            self._progress.stop()
            self._started = False
