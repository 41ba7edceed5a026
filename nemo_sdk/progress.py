"""One progress report type for every workflow, and the helper that delivers it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from .events import EventHandler

__all__ = ["Phase", "Progress", "ProgressCallback"]

Phase = Literal["connecting", "generating", "rendering", "downloading", "done"]
"""The phases of :meth:`NemoClient.generate_and_export`, in order."""


@attrs.frozen(kw_only=True)
class Progress:
    """Where a workflow is.

    Attributes:
        phase: ``connecting``, ``generating``, ``rendering``, ``downloading`` or ``done``.
        percent: 0-100 within the phase, when known (rendering, downloading).
        session_id: the session, from the moment it exists: keep it to resume.
        render_id: the render, from the moment it exists: ``nemo.renders.wait(id)``
            and ``nemo.renders.download(id, path)`` resume from it in any process.
        message: a short line for people.
        item: in a batch, the item's index in the input (as ``BatchResult.index``);
            ``None`` outside a batch.
    """

    phase: Phase
    percent: float | None = None
    session_id: str | None = None
    render_id: str | None = None
    message: str = ""
    item: int | None = None


ProgressCallback = Callable[[Progress], "Awaitable[None] | None"]
"""A plain function or a coroutine function taking a :class:`Progress`."""


async def report(
    progress: Progress,
    callback: ProgressCallback | None,
    handlers: Sequence[EventHandler] = (),
) -> None:
    """Give ``progress`` to the callback, then to every handler's ``on_progress``."""
    if callback is not None:
        result = callback(progress)
        if inspect.isawaitable(result):
            await result
    if handlers:
        from .events import dispatch_progress

        await dispatch_progress(handlers, progress)
