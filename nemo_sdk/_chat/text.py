"""What a chat turn received, gathered into its ``ChatReply`` (pure, no I/O).

Text rules (API.md, "POST /run_sse"):

* ADK's streaming mode sends a model turn as ``partial`` pieces, then the whole
  turn again in one final event with the same ``id``: the final replaces the
  pieces, so the text is counted once. Pieces never confirmed by a final (the
  stream ended first) are kept. Without streaming, each event is a whole turn.
* One model turn is one message, whatever its parts (text and a ``functionCall``
  may share them). Messages are joined by a blank line. Flat ``text`` events are
  pieces of one message until a tool call or result, concatenated as they came.
* A trailing "I encountered a temporary issue" text after a successful tool
  result is noise, not a failure: it is cut from the text (the events are kept).

Tool calls: a ``functionCall`` in a partial ADK event is provisional. It is held
back, and the final event of the same id replaces it; held calls that no final
confirmed are reported when a result answers them, or when the turn ends. So each
call is reported once.

New text (``ChatStream.text_deltas``, ``EventHandler.on_reply_text``): what a
message's text grew by, each character once; a message's first piece after
another's is prefixed with the blank line that joins them, and trailing white
space waits for the text after it, so that the pieces joined are the reply text
(before the noise cut). When a final differs from the pieces already shown
(never seen from ADK), it adds nothing: shown text cannot be taken back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..routing import suggest_actions
from .events import ChatEvent, ErrorEvent, TextDelta, ToolCall, ToolResult
from .reply import ChatReply

if TYPE_CHECKING:
    from ..timeline import DraftDiff

NOISE_PHRASE = "i encountered a temporary issue"


class _Message:
    __slots__ = ("after_success", "final", "parts", "pending", "seen")

    def __init__(self, after_success: bool) -> None:
        self.parts: list[str] = []  # text of the final event (or of flat pieces)
        self.pending: list[str] = []  # partial pieces not yet replaced by their final
        self.final: object = None  # the wire object ``parts`` came from (ADK)
        self.seen = ""  # the prefix of ``text()`` handed out as new text
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
    """Collects a turn's events under the rules above.

    :meth:`add` records one event and returns the events to report now;
    :attr:`new_text` is then the reply text that event added. :meth:`release`
    returns the provisional calls still held, at the end of the turn.
    """

    def __init__(self) -> None:
        self.events: list[ChatEvent] = []
        self.tool_calls: list[ToolCall] = []
        self.tool_results: list[ToolResult] = []
        self.error: ErrorEvent | None = None  # the first error the server reported
        self.new_text = ""
        self._messages: list[_Message] = []
        self._by_id: dict[str, _Message] = {}  # ADK event id -> its message
        self._adk: _Message | None = None  # the last ADK message (its final may be due)
        self._flat: _Message | None = None  # the flat message that may still grow
        self._success = False  # a successful tool result came before the current message
        self._held: dict[str, list[ToolCall]] = {}  # ADK event id -> provisional calls
        self._reported_ids: set[str] = set()  # ids of the calls reported
        self._shown = False  # some text was handed out

    def add(self, event: ChatEvent) -> list[ChatEvent]:
        """Record one event; the events to report now, in order (``[event]`` mostly)."""
        self.new_text = ""
        kind = type(event)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            self._add_text(event)
        elif kind is ToolCall:
            assert isinstance(event, ToolCall)
            return self._add_call(event)
        elif kind is ToolResult:
            assert isinstance(event, ToolResult)
            return self._add_result(event)
        else:
            if kind is ErrorEvent and self.error is None:
                assert isinstance(event, ErrorEvent)
                self.error = event
            self.events.append(event)
        return [event]

    def release(self) -> list[ChatEvent]:
        """The provisional calls no final replaced (the turn ended), now reported."""
        out: list[ChatEvent] = []
        for calls in self._held.values():
            for call in calls:
                self._report(call, out)
        self._held.clear()
        return out

    def text(self) -> str:
        """The reply text: messages joined by a blank line, trailing noise left out."""
        texts = [m.text().strip() for m in self._messages]
        if texts and self._messages[-1].after_success:
            # Flat pieces of the noise may follow the real text in the same message.
            cut = texts[-1].lower().rfind(NOISE_PHRASE)
            if cut >= 0:
                texts[-1] = texts[-1][:cut].rstrip()
        return "\n\n".join(t for t in texts if t)

    def reply(self, session_id: str, diff: DraftDiff, *, interrupted: bool = False) -> ChatReply:
        """The turn's :class:`ChatReply`: what was received, and ``diff`` of the draft.

        The one place a reply is built from a turn (a full stream, a failed turn, a
        recovered drop alike).
        """
        text = self.text()
        return ChatReply(
            session_id=session_id,
            text=text,
            events=self.events,
            tool_calls=self.tool_calls,
            tool_results=self.tool_results,
            draft_changed=diff.changed,
            summary=diff.summary() if diff.changed else None,
            interrupted=interrupted,
            suggested_actions=suggest_actions(text),
        )

    # ------------------------------------------------------------------ text

    def _new_message(self) -> _Message:
        message = _Message(self._success)
        self._messages.append(message)
        return message

    def _add_text(self, event: TextDelta) -> None:
        self.events.append(event)
        if not _is_adk(event):
            message = self._flat
            if message is None:
                message = self._flat = self._new_message()
            if event.partial:
                message.pending.append(event.text)
            else:
                message.pending.clear()
                message.parts.append(event.text)
        else:
            self._flat = None
            key = event.event_id
            raw = event.raw
            if key is not None:
                self._drop_held(key, event.partial)
            message = self._by_id.get(key) if key is not None else None
            if message is None:
                # ADK gives a turn's pieces and its final one id; a server that does
                # not (or sends none) still sends the pieces first, then the final.
                message = self._adk
                if message is None or (
                    message.final is not None and (event.partial or message.final is not raw)
                ):
                    message = self._new_message()
                if key is not None:
                    self._by_id[key] = message
            self._adk = message
            if event.partial:
                message.pending.append(event.text)
            else:
                if message.final is not raw:  # the first text part of this final event
                    message.parts.clear()
                    message.pending.clear()
                    message.final = raw
                message.parts.append(event.text)
        self.new_text = self._grown(message)

    def _grown(self, message: _Message) -> str:
        current = message.text()
        seen = message.seen
        if not current.startswith(seen):
            return ""
        end = len(current.rstrip())
        if end <= len(seen):
            return ""
        new = current[len(seen) : end]
        message.seen = current[:end]
        if not seen:
            new = new.lstrip()
            if self._shown:
                new = "\n\n" + new
            self._shown = True
        return new

    # ----------------------------------------------------------------- tools

    def _drop_held(self, key: str, partial: bool | None) -> None:
        if not partial and key in self._held:
            del self._held[key]  # the final of these provisional calls replaces them

    def _add_call(self, call: ToolCall) -> list[ChatEvent]:
        self._flat = None
        self._adk = None
        key = call.event_id
        if key is not None:
            if call.partial:
                self._held.setdefault(key, []).append(call)
                return []
            self._drop_held(key, call.partial)
        out: list[ChatEvent] = []
        self._report(call, out)
        return out

    def _report(self, call: ToolCall, out: list[ChatEvent]) -> None:
        if call.id:
            if call.id in self._reported_ids:
                return
            self._reported_ids.add(call.id)
        self.events.append(call)
        self.tool_calls.append(call)
        out.append(call)

    def _add_result(self, result: ToolResult) -> list[ChatEvent]:
        self._flat = None
        self._adk = None
        out: list[ChatEvent] = []
        if result.id and self._held:
            # A result answers a held call: the call was real, and goes before its result.
            for key, calls in list(self._held.items()):
                for call in [c for c in calls if c.id == result.id]:
                    calls.remove(call)
                    self._report(call, out)
                if not calls:
                    del self._held[key]
        self.events.append(result)
        self.tool_results.append(result)
        self._success = self._success or succeeded(result.result)
        out.append(result)
        return out
