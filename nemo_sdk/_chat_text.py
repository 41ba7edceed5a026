"""What a chat turn received, gathered into the parts of a ``ChatReply`` (pure, no I/O).

Text rules (API.md, "POST /run_sse"):

* ADK streams a message as ``partial`` pieces, then repeats it whole in one final
  event: the final replaces the pieces, so the text is counted once. Pieces never
  confirmed by a final (the stream ended first) are kept.
* Messages are joined by a blank line. A message ends at an ADK final (not
  partial) text and at a tool call or result; flat ``text`` events in between
  are pieces of one message, concatenated as they came.
* A trailing "I encountered a temporary issue" text after a successful tool
  result is noise, not a failure: it is cut from the text (the events are kept).
"""

from __future__ import annotations

from typing import Any

from .events import ChatEvent, TextDelta, ToolCall, ToolResult

NOISE_PHRASE = "i encountered a temporary issue"


class _Message:
    __slots__ = ("after_success", "parts", "pending")

    def __init__(self, after_success: bool) -> None:
        self.parts: list[str] = []
        self.pending: list[str] = []  # partial pieces not yet repeated by their final
        self.after_success = after_success

    def text(self) -> str:
        return "".join(self.parts) + "".join(self.pending)


def succeeded(result: Any) -> bool:
    """Whether a tool result reads as a success (no ``error``, no failed status)."""
    if isinstance(result, dict):
        if result.get("error"):
            return False
        if result.get("success") is False:
            return False
        status = result.get("status")
        if isinstance(status, str) and status.lower() in ("error", "failed", "failure"):
            return False
    return True


def _is_adk(event: TextDelta) -> bool:
    raw = event.raw
    return isinstance(raw, dict) and isinstance(raw.get("content"), dict)


class ReplyBuilder:
    """Collects a turn's events; :meth:`text` is the reply text under the rules above."""

    def __init__(self) -> None:
        self.events: list[ChatEvent] = []
        self.tool_calls: list[ToolCall] = []
        self.tool_results: list[ToolResult] = []
        self._messages: list[_Message] = []
        self._open = False  # the last message may still grow
        self._success = False  # a successful tool result came before the current message

    def add(self, event: ChatEvent) -> None:
        """Record one event."""
        self.events.append(event)
        if isinstance(event, TextDelta):
            if not self._open:
                self._messages.append(_Message(self._success))
                self._open = True
            message = self._messages[-1]
            if event.partial:
                message.pending.append(event.text)
            else:
                message.pending.clear()
                message.parts.append(event.text)
                # An ADK event without ``partial`` is a whole message; flat ones are pieces.
                self._open = not _is_adk(event)
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
            self._open = False
        elif isinstance(event, ToolResult):
            self.tool_results.append(event)
            self._open = False
            self._success = self._success or succeeded(event.result)

    def text(self) -> str:
        """The reply text: messages joined by a blank line, trailing noise left out."""
        texts = [m.text().strip() for m in self._messages]
        if texts and self._messages[-1].after_success:
            # Flat pieces of the noise may follow the real text in the same message.
            cut = texts[-1].lower().rfind(NOISE_PHRASE)
            if cut >= 0:
                texts[-1] = texts[-1][:cut].rstrip()
        return "\n\n".join(t for t in texts if t)
