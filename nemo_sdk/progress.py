"""One progress report type for every workflow, and the one sync-or-async callback shim.

Every ``on_progress`` of the SDK (workflows, uploads, renders, downloads) takes a plain
function or a coroutine function: :data:`OnProgress` is that type, :func:`call_back`
the one place that calls it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeAlias

import attrs

__all__ = ["OnProgress", "Phase", "Progress", "ProgressCallback", "call_back"]

P = ParamSpec("P")

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


OnProgress: TypeAlias = Callable[P, Any]
"""A plain function or a coroutine function taking ``P`` (``OnProgress[[Progress]]``...);
what it returns is awaited when it is awaitable, else ignored."""

ProgressCallback: TypeAlias = OnProgress[[Progress]]
"""A plain function or a coroutine function taking a :class:`Progress`."""


async def call_back(callback: OnProgress[P], *args: P.args, **kwargs: P.kwargs) -> None:
    """Call ``callback``; await what it returned if it is awaitable."""
    result = callback(*args, **kwargs)
    if inspect.isawaitable(result):
        await result
