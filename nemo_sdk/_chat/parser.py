"""Typed chat events from the ``data`` of one Server-Sent Event, in both wire shapes.

See :mod:`nemo_sdk.events` for the shapes and the rule that nothing is dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import EventParseError
from ..sse import ServerSentEvent, _json_loads
from .events import (
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

__all__ = ["parse_data", "parse_event"]

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
