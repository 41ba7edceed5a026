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

This module gathers the public names of three private ones, each one job: the
event types (``_chat_events``), their parser (``_event_parser``) and the handlers
(``_handlers``). Import from here.
"""

from __future__ import annotations

from ._chat.events import (
    ActionsEvent,
    ChatEvent,
    ErrorEvent,
    Heartbeat,
    TextDelta,
    Thought,
    ToolCall,
    ToolResult,
    UnknownEvent,
)
from ._chat.handlers import (
    EventHandler,
    dispatch,
    dispatch_end,
    dispatch_progress,
    dispatch_reply_text,
    dispatch_still_working,
)
from ._chat.parser import parse_data, parse_event

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
