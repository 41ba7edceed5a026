"""The typed chat events: what one event of ``POST /run_sse`` carried, and nothing else.

Pure data (attrs classes, no behaviour): the parser (``_event_parser``) builds them,
the handlers (``_handlers``) receive them. Public under :mod:`nemo_sdk.events`.

The classes are slotted attrs classes, not pydantic models: one is built per
event of a stream that may carry thousands. They are not frozen, for the same
reason; treat them as read-only.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

__all__ = [
    "ActionsEvent",
    "ChatEvent",
    "ErrorEvent",
    "Heartbeat",
    "TextDelta",
    "Thought",
    "ToolCall",
    "ToolResult",
    "UnknownEvent",
]


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
