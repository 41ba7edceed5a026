"""Typed chat events, parsed from both wire shapes of ``POST /run_sse``, and their handlers.

API.md documents two shapes for one event's ``data``:

* Agent Development Kit (ADK) events: ``content.parts[]``, each part holding
  ``text``, ``functionCall {id, name, args}`` or ``functionResponse {id, name,
  response}``, plus ``author``, ``partial``, ``invocationId``, ``id``... One ADK
  event yields one typed event per part, in order; a ``"thought": true`` part is a
  :class:`Thought`, ``errorCode``/``errorMessage`` an :class:`ErrorEvent` (after the
  parts), and an event without parts (only ``actions``, or ``{"content": {"role":
  "model"}}``) an :class:`ActionsEvent`. ADK's last line after a failure,
  ``{"error": "<Type>: <message>", "error_details": {...}}``, is an :class:`ErrorEvent`.
* Flat events: ``{"type": "text" | "tool_call" | "tool_result" | "heartbeat", ...}``.

Nothing is dropped: data of neither shape, parts of no known kind (ADK
``inlineData``...) and malformed JSON become :class:`UnknownEvent`; every typed
event keeps its wire object as ``raw`` (``finishReason``, ``longRunningToolIds``,
``timestamp``... are there).

The events are what came over the wire: ADK's streaming mode sends a model turn
as ``partial`` pieces and then the whole turn again (same ``event_id``). The chat
layer (``nemo.chat``) reports each tool call once and counts text once; for the
new text alone, use ``ChatStream.text_deltas()`` or ``EventHandler.on_reply_text``.

The classes are slotted attrs classes, not pydantic models: one is built per
event of a stream that may carry thousands. They are not frozen, for the same
reason; treat them as read-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from .errors import EventParseError, HandlerError
from .sse import ServerSentEvent, _json_loads

if TYPE_CHECKING:
    from .models.chat import ChatReply
    from .progress import Progress


@attrs.define(slots=True, weakref_slot=False)
class TextDelta:
    """Reply text from the agent.

    ``partial`` (ADK streaming mode): ``True`` on a streamed piece of a model turn.
    ADK then sends the whole turn once more in a final event (``partial`` false, the
    same ``event_id``): showing every ``TextDelta`` shows that text twice. To show
    text as it comes, use ``ChatStream.text_deltas()`` or ``EventHandler.on_reply_text``.
    Without streaming, ADK sends one event per turn (``partial`` is ``None``). Flat
    events carry no flag and are never repeated.
    """

    text: str
    partial: bool | None = None
    author: str | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class ToolCall:
    """The agent called a tool (``args`` is ``{}`` when the wire sent none).

    ``partial``, ``invocation_id`` and ``event_id`` are the ADK event's. ``nemo.chat``
    reports each call once: a call in a partial ADK event is provisional, and the
    final event of the same ``event_id`` replaces it.
    """

    id: str | None
    name: str
    args: dict[str, Any] = attrs.field(factory=dict)
    author: str | None = None
    partial: bool | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class ToolResult:
    """A tool's answer (ADK ``functionResponse.response``, flat ``result``)."""

    id: str | None
    name: str
    result: Any = None
    author: str | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class Thought:
    """The model's reasoning (an ADK part with ``"thought": true``): not reply text.

    In ADK's streaming mode a thought comes in pieces (``partial``) and then whole in
    the turn's final event, like text.
    """

    text: str
    partial: bool | None = None
    author: str | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class ErrorEvent:
    """The server reported that the turn failed, inside the 200 stream.

    From an ADK event's ``errorCode``/``errorMessage`` (``code`` is an exception name
    or a code such as ``MODEL_RETURNED_NO_CONTENT``), or from ADK's last line
    ``{"error": "<Type>: <message>", "error_details": {...}}`` (``code`` is the type,
    ``details`` the ``error_details`` object). ``nemo.chat`` then raises
    ``ChatTurnError`` once the stream ends.
    """

    code: str | None
    message: str | None = None
    details: dict[str, Any] | None = None
    author: str | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class ActionsEvent:
    """An ADK event without content parts: ``actions`` (``stateDelta``, ``artifactDelta``,
    ``skipSummarization``...) is its payload, ``{}`` when it had none."""

    actions: dict[str, Any] = attrs.field(factory=dict)
    author: str | None = None
    invocation_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class Heartbeat:
    """A keep-alive: ``raw`` is the flat ``{"type": "heartbeat"}`` object, or ``None``
    for an empty ``data:`` line or a comment block (see :mod:`nemo_sdk.sse`)."""

    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.define(slots=True, weakref_slot=False)
class UnknownEvent:
    """Data the SDK does not understand, kept whole.

    ``data`` is the event's full ``data`` text; ``raw`` the parsed JSON value (for an
    unknown ADK part, that part), ``None`` when it did not parse; ``error`` says why
    it did not parse.
    """

    data: str
    raw: Any = None
    error: str | None = None


ChatEvent: TypeAlias = (
    TextDelta
    | ToolCall
    | ToolResult
    | Thought
    | ErrorEvent
    | ActionsEvent
    | Heartbeat
    | UnknownEvent
)
"""Any typed chat event (usable with ``isinstance``)."""

# Keys that only an ADK event has (the flat shape has ``type``): an ADK event may come
# without ``content`` (an error, actions only).
_ADK_KEYS = ("invocationId", "errorCode", "errorMessage", "actions")
_ERROR_TYPE = re.compile(r"([A-Za-z_][\w.]*): ", re.ASCII)


def parse_event(sse: ServerSentEvent, *, strict: bool = False) -> list[ChatEvent]:
    """Typed events of one Server-Sent Event (see :func:`parse_data`)."""
    return parse_data(sse.data, strict=strict)


def parse_data(data: str | bytes, *, strict: bool = False) -> list[ChatEvent]:
    """Typed events of one event's ``data``, in order (at least one).

    Empty data is a :class:`Heartbeat`. Malformed JSON is an :class:`UnknownEvent`
    with ``error`` set, or raises ``EventParseError`` when ``strict``.
    """
    if not data or data.isspace():
        return [Heartbeat()]
    try:
        obj = _json_loads(data) if type(data) is str else json.loads(data)
    # JSONDecodeError; UnicodeDecodeError for bytes; RecursionError for absurd nesting.
    except (ValueError, RecursionError) as exc:
        text = _as_text(data)
        if strict:
            raise EventParseError(f"event data is not valid JSON: {exc}", data=text) from exc
        return [UnknownEvent(text, None, str(exc))]
    if type(obj) is dict:
        content = obj.get("content")
        if type(content) is dict:
            parts = content.get("parts")
            # The usual event, one text part and no error, without the general loop: a
            # streamed reply is thousands of these.
            if type(parts) is list and len(parts) == 1 and type(part := parts[0]) is dict:
                piece = part.get("text")
                if (
                    type(piece) is str
                    and not part.get("thought")
                    and "errorCode" not in obj
                    and "errorMessage" not in obj
                ):
                    return [
                        TextDelta(
                            piece,
                            obj.get("partial"),
                            obj.get("author"),
                            obj.get("invocationId"),
                            obj.get("id"),
                            obj,
                        )
                    ]
            return _parse_adk(obj, parts, data)
        flat = _parse_flat(obj)
        if flat is not None:
            return [flat]
        if "type" not in obj:
            if any(key in obj for key in _ADK_KEYS):
                return _parse_adk(obj, None, data)
            if "error" in obj:
                return [_error_line(obj)]
    return [UnknownEvent(_as_text(data), obj)]


def _parse_adk(obj: dict[str, Any], parts: Any, data: str | bytes) -> list[ChatEvent]:
    events: list[ChatEvent] = []
    author = obj.get("author")
    partial = obj.get("partial")
    invocation_id = obj.get("invocationId")
    event_id = obj.get("id")
    if type(parts) is list:
        for part in parts:
            if type(part) is dict:
                text = part.get("text")
                # A thought part is the model's reasoning, not reply text.
                if type(text) is str and not part.get("thought"):
                    events.append(TextDelta(text, partial, author, invocation_id, event_id, obj))
                    continue
                call = part.get("functionCall")
                if type(call) is dict:
                    args = call.get("args")
                    events.append(
                        ToolCall(
                            call.get("id"),
                            _name(call),
                            args if type(args) is dict else {},
                            author,
                            partial,
                            invocation_id,
                            event_id,
                            obj,
                        )
                    )
                    continue
                response = part.get("functionResponse")
                if type(response) is dict:
                    events.append(
                        ToolResult(
                            response.get("id"),
                            _name(response),
                            response.get("response"),
                            author,
                            invocation_id,
                            event_id,
                            obj,
                        )
                    )
                    continue
                if part.get("thought"):
                    thought_text = text if type(text) is str else ""
                    events.append(
                        Thought(thought_text, partial, author, invocation_id, event_id, obj)
                    )
                    continue
            events.append(UnknownEvent(_as_text(data), part))
    # ``in``, not ``get``: checked on every event, true on almost none.
    if ("errorCode" in obj or "errorMessage" in obj) and (
        obj.get("errorCode") is not None or obj.get("errorMessage") is not None
    ):
        code, message = _str(obj.get("errorCode")), _str(obj.get("errorMessage"))
        events.append(ErrorEvent(code, message, None, author, invocation_id, event_id, obj))
    elif not events:
        actions = obj.get("actions")
        events.append(
            ActionsEvent(
                actions if type(actions) is dict else {}, author, invocation_id, event_id, obj
            )
        )
    return events


def _error_line(obj: dict[str, Any]) -> ErrorEvent:
    """ADK's last line after a failure: ``{"error": "<Type>: <message>", "error_details": ...}``."""
    error = obj.get("error")
    details = obj.get("error_details")
    details = details if type(details) is dict else None
    code: str | None = None
    message: str | None = None
    if type(error) is dict:  # {"error": {"code": ..., "message": ...}}, as other servers do
        code, message = _str(error.get("code")), _str(error.get("message"))
    elif error is not None:
        message = str(error)
        found = _ERROR_TYPE.match(message)
        if found:
            code, message = found.group(1), message[found.end() :]
    if details is not None:
        code = _str(details.get("error_type")) or code
        message = _str(details.get("error_message")) or message
    return ErrorEvent(code, message, details, raw=obj)


def _parse_flat(obj: dict[str, Any]) -> ChatEvent | None:
    kind = obj.get("type")
    if kind == "text":
        content = obj.get("content")
        if type(content) is str:
            return TextDelta(
                content, obj.get("partial"), obj.get("author"), None, obj.get("id"), obj
            )
    elif kind == "tool_call":
        args = obj.get("args")
        return ToolCall(
            obj.get("id"),
            _name(obj),
            args if type(args) is dict else {},
            obj.get("author"),
            raw=obj,
        )
    elif kind == "tool_result":
        return ToolResult(obj.get("id"), _name(obj), obj.get("result"), obj.get("author"), raw=obj)
    elif kind == "heartbeat":
        return Heartbeat(obj)
    return None


def _name(obj: dict[str, Any]) -> str:
    name = obj.get("name")
    return name if type(name) is str else ""


def _str(value: Any) -> str | None:
    return None if value is None else value if type(value) is str else str(value)


def _as_text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


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


__all__ = [
    "ActionsEvent",
    "ChatEvent",
    "ErrorEvent",
    "EventHandler",
    "Heartbeat",
    "TextDelta",
    "Thought",
    "ToolCall",
    "ToolResult",
    "UnknownEvent",
    "dispatch",
    "dispatch_end",
    "dispatch_progress",
    "dispatch_reply_text",
    "dispatch_still_working",
    "parse_data",
    "parse_event",
]
