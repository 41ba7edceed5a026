"""The two wire shapes of ``/run_sse`` events (API.md "POST /run_sse"), built as dicts.

The ADK shape is google-adk 2.x's own, field for field (``tests/adk/captures`` hold
streams of its real server, and ``tests/adk/test_emulator_drift.py`` keeps the two
alike). Pure: no I/O; :mod:`.routes_chat` writes what this builds.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from .agent import AUTHOR

# The finish reasons a model reports a blocked turn with (the others finish ``STOP``).
_BLOCKED = frozenset({"SAFETY", "RECITATION", "MAX_TOKENS", "BLOCKLIST", "PROHIBITED_CONTENT"})


def _no_actions() -> dict[str, Any]:
    return {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {},
            "requestedToolConfirmations": {}}  # fmt: skip


def _merge(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A model turn's chunks as its aggregate's parts: adjacent text of one kind joined."""
    parts: list[dict[str, Any]] = []
    for part in chunks:
        prev = parts[-1] if parts else None
        if (
            prev is not None
            and "text" in prev
            and "text" in part
            and prev.get("thought", False) == part.get("thought", False)
        ):
            parts[-1] = {**prev, "text": prev["text"] + part["text"]}
        else:
            parts.append(dict(part))
    return parts


class Shape:
    """Builds the event objects of one wire shape (API.md "POST /run_sse").

    The ADK shape is google-adk 2.x's, field for field (``tests/adk/captures``): without
    ``streaming`` one event per model turn and no ``partial`` key; with it, each chunk
    of a turn as a ``partial: true`` event, then the aggregate (``partial: false``) under
    the same ``id``. A turn's last chunk and its aggregate carry ``finishReason``; events
    with a ``functionCall`` carry ``longRunningToolIds``.
    """

    def __init__(self, flat: bool, streaming: bool = False, thoughts: bool = False) -> None:
        self.flat = flat
        self.streaming = streaming
        self.thoughts = thoughts
        self.invocation = f"e-{uuid.uuid4()}"

    def call_id(self) -> str:
        """A new tool call id, as this shape's server makes them."""
        return f"call_{uuid.uuid4().hex[:12]}" if self.flat else f"adk-{uuid.uuid4()}"

    def _adk(
        self,
        parts: list[dict[str, Any]] | None,
        role: str = "model",
        *,
        event_id: str | None = None,
        partial: bool | None = None,
        finish: str | None = None,
        error: tuple[str, str] | None = None,
        actions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {}
        if parts is not None:
            event["content"] = {"parts": parts, "role": role} if parts else {"role": role}
        if partial is not None:
            event["partial"] = partial
        if finish is not None:
            event["finishReason"] = finish
        if error is not None:
            event["errorCode"], event["errorMessage"] = error
        event["invocationId"] = self.invocation
        event["author"] = AUTHOR
        event["actions"] = actions if actions is not None else _no_actions()
        event["nodeInfo"] = {"path": f"{AUTHOR}@1"}
        if parts and any("functionCall" in p for p in parts):
            event["longRunningToolIds"] = []
        event["id"] = event_id or str(uuid.uuid4())
        event["timestamp"] = time.time()
        return event

    def model_turn(self, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One model turn (its parts as streamed chunks) as ADK sends it in this mode."""
        if self.thoughts:
            chunks = [{"text": "Planning the edit.", "thought": True}, *chunks]
        event_id = str(uuid.uuid4())
        if not self.streaming:
            return [self._adk(_merge(chunks), event_id=event_id, finish="STOP")]
        last = len(chunks) - 1
        events = [
            self._adk([part], event_id=event_id, partial=True, finish="STOP" if i == last else None)
            for i, part in enumerate(chunks)
        ]
        return [*events, self._adk(_merge(chunks), event_id=event_id, partial=False, finish="STOP")]

    def heartbeat(self) -> bytes:
        """This shape's keep-alive block."""
        # ADK has no heartbeat event: its keep-alive is an empty ``data:`` line.
        return b'data: {"type": "heartbeat"}\n\n' if self.flat else b"data:\n\n"

    @staticmethod
    def _pieces(text: str) -> list[str]:
        words = text.split(" ")
        pieces = [" ".join(words[i : i + 4]) for i in range(0, len(words), 4)]
        return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]

    def text(self, text: str) -> list[dict[str, Any]]:
        """A model turn that says ``text`` (in pieces of four words when streamed)."""
        pieces = self._pieces(text)
        if self.flat:
            return [{"type": "text", "content": p} for p in pieces]
        return self.model_turn([{"text": p} for p in pieces])

    def call(
        self, call_id: str, name: str, args: dict[str, Any], say: str | None = None
    ) -> list[dict[str, Any]]:
        """The model turn that calls the tool (``say``: text in the same turn, before it)."""
        if self.flat:
            return [{"type": "tool_call", "id": call_id, "name": name, "args": args}]
        said = [{"text": p} for p in self._pieces(say)] if say else []
        call = {"functionCall": {"id": call_id, "args": args, "name": name}}
        return self.model_turn([*said, call])

    def result(
        self, call_id: str, name: str, result: dict[str, Any], delta: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The tool's result; with ``delta`` (state, artifacts), then ADK's actions-only event."""
        if self.flat:
            return [{"type": "tool_result", "id": call_id, "name": name, "result": result}]
        part = {"functionResponse": {"id": call_id, "name": name, "response": result}}
        if delta is None:
            return [self._adk([part], role="user")]
        # ADK's run_sse splits an event carrying an artifact: the content with
        # ``artifactDelta`` emptied, then the actions alone, under the same id.
        event_id = str(uuid.uuid4())
        state = {"stateDelta": delta.get("state", {})}
        content_actions = {**_no_actions(), **state}
        actions_only = {**_no_actions(), **state, "artifactDelta": delta.get("artifacts", {})}
        return [
            self._adk([part], role="user", event_id=event_id, actions=content_actions),
            self._adk(None, event_id=event_id, actions=actions_only),
        ]

    def failure(self, code: str, message: str, text: str, line: bool) -> list[bytes]:
        """A failed model turn as ADK reports it inside the 200 stream (SSE blocks).

        An exception (``line``): an ``errorCode`` event, then ADK's last line
        ``{"error": ..., "error_details": ...}``. A model's own verdict (``SAFETY``,
        ``MODEL_RETURNED_NO_CONTENT``...): the turn's event carries the error.
        """
        if self.flat:
            return [block({"code": 500, "message": f"{code}: {message}"})]
        error = (code, message)
        if line:
            details = {"error_type": code, "error_message": message, "timestamp": time.time()}
            tail = json.dumps({"error": f"{code}: {message}", "error_details": details})
            return [block(self._adk(None, error=error)), f"data: {tail}\n\n".encode()]
        finish = code if code in _BLOCKED else "STOP"
        event_id = str(uuid.uuid4())
        if code == "MODEL_RETURNED_NO_CONTENT":
            # ADK's verdict on a turn that finished with only a thought: the turn's
            # own event, its content kept, the error added.
            thought = [{"text": text or "Thinking it over.", "thought": True}]
            if not self.streaming:
                return [block(self._adk(thought, event_id=event_id, finish=finish, error=error))]
            chunk = self._adk(thought, event_id=event_id, partial=True, finish=finish)
            final = self._adk(thought, event_id=event_id, partial=False, finish=finish, error=error)
            return [block(chunk), block(final)]
        said = [{"text": text}] if text else []
        if not self.streaming:
            parts = None if finish != "STOP" or not said else said
            return [block(self._adk(parts, event_id=event_id, finish=finish, error=error))]
        head = [self._adk(said, event_id=event_id, partial=True)] if said else []
        tail_events = [
            self._adk(None, event_id=event_id, partial=True, finish=finish, error=error),
            self._adk(said or None, event_id=event_id, partial=False, finish=finish, error=error),
        ]
        return [block(e) for e in [*head, *tail_events]]


def block(obj: dict[str, Any]) -> bytes:
    """One SSE block carrying ``obj`` as its data."""
    return b"data: " + json.dumps(obj).encode() + b"\n\n"
