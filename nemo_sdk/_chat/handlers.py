"""Event handlers: the :class:`EventHandler` hooks, and how events and progress reach them.

A hook that raises stops the turn with ``HandlerError`` (the hook's exception is its
cause). Public under :mod:`nemo_sdk.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import HandlerError
from ..progress import ProgressCallback, call_back
from .events import ChatEvent, Heartbeat, TextDelta, ToolCall, ToolResult

if TYPE_CHECKING:
    from ..progress import Progress
    from .reply import ChatReply

__all__ = [
    "EventHandler",
    "dispatch",
    "dispatch_end",
    "dispatch_progress",
    "dispatch_reply_text",
    "dispatch_still_working",
    "merge_handlers",
    "report_progress",
]


class EventHandler:
    """Base class for chat event handlers: override the hooks you need.

    Every hook is a coroutine that does nothing here. For each event,
    :meth:`on_event` runs first, then the hook of the event's type (a
    :class:`Thought`, :class:`ErrorEvent`, :class:`ActionsEvent` or
    :class:`UnknownEvent` has only ``on_event``), then :meth:`on_reply_text` when
    the event brought new reply text. Hooks are looked up on the class: hooks left
    as they are cost nothing.
    """

    async def on_event(self, event: ChatEvent) -> None:
        """Any typed event, before its own hook."""

    async def on_text(self, event: TextDelta) -> None:
        """A text event as it came (ADK streaming repeats text: see :class:`TextDelta`)."""

    async def on_reply_text(self, text: str) -> None:
        """New reply text, each piece exactly once, whatever the wire shape and mode.

        Joined, the pieces are the reply's text (messages separated by a blank line).
        """

    async def on_tool_call(self, event: ToolCall) -> None:
        """The agent called a tool."""

    async def on_tool_result(self, event: ToolResult) -> None:
        """A tool answered."""

    async def on_heartbeat(self, event: Heartbeat) -> None:
        """A keep-alive arrived."""

    async def on_still_working(self, elapsed_seconds: float) -> None:
        """The reply is still running after ``elapsed_seconds`` (a notice for end users)."""

    async def on_end(self, reply: ChatReply) -> None:
        """The chat turn ended with ``reply``."""

    async def on_progress(self, progress: Progress) -> None:
        """A workflow (``generate_and_export``, ``batch``...) moved on; see :class:`Progress`."""


_HOOK_OF_TYPE: dict[type[Any], str] = {
    TextDelta: "on_text",
    ToolCall: "on_tool_call",
    ToolResult: "on_tool_result",
    Heartbeat: "on_heartbeat",
}


_HOOK_CACHE: dict[tuple[type[EventHandler], type[Any] | str], tuple[str, ...]] = {}


def _hooks(handler_type: type[EventHandler], key: type[Any] | str) -> tuple[str, ...]:
    """Hooks of ``handler_type`` to call for an event type (or a hook name), overridden only."""
    hooks = _HOOK_CACHE.get((handler_type, key))
    if hooks is None:
        names = (key,) if isinstance(key, str) else ("on_event", _HOOK_OF_TYPE.get(key, ""))
        hooks = tuple(
            name
            for name in names
            if name and getattr(handler_type, name) is not getattr(EventHandler, name)
        )
        _HOOK_CACHE[(handler_type, key)] = hooks
    return hooks


async def _call(handlers: Sequence[EventHandler], key: type[Any] | str, arg: Any) -> None:
    for handler in handlers:
        for name in _hooks(type(handler), key):
            try:
                await getattr(handler, name)(arg)
            except Exception as exc:
                handler_name = type(handler).__name__
                raise HandlerError(
                    f"{handler_name}.{name} raised {type(exc).__name__}: {exc}",
                    handler=handler_name,
                    hook=name,
                ) from exc


async def dispatch(handlers: Sequence[EventHandler], event: ChatEvent) -> None:
    """Give ``event`` to every handler in order; a hook's exception becomes ``HandlerError``."""
    await _call(handlers, type(event), event)


async def dispatch_reply_text(handlers: Sequence[EventHandler], text: str) -> None:
    """Call every handler's ``on_reply_text`` in order."""
    await _call(handlers, "on_reply_text", text)


async def dispatch_still_working(handlers: Sequence[EventHandler], elapsed_seconds: float) -> None:
    """Call every handler's ``on_still_working`` in order."""
    await _call(handlers, "on_still_working", elapsed_seconds)


async def dispatch_end(handlers: Sequence[EventHandler], reply: ChatReply) -> None:
    """Call every handler's ``on_end`` in order."""
    await _call(handlers, "on_end", reply)


async def dispatch_progress(handlers: Sequence[EventHandler], progress: Progress) -> None:
    """Call every handler's ``on_progress`` in order."""
    await _call(handlers, "on_progress", progress)


def merge_handlers(
    handler: EventHandler | None, handlers: Sequence[EventHandler]
) -> list[EventHandler]:
    """The ``handler=``/``handlers=`` arguments as one list: ``handler`` first."""
    return [*([handler] if handler is not None else []), *handlers]


async def report_progress(
    progress: Progress,
    callback: ProgressCallback | None,
    handlers: Sequence[EventHandler] = (),
) -> None:
    """Give ``progress`` to the callback, then to every handler's ``on_progress``."""
    if callback is not None:
        await call_back(callback, progress)
    if handlers:
        await dispatch_progress(handlers, progress)
