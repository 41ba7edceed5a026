"""The result of one chat turn (``POST /run_sse``): a result of the SDK, not a wire model.

Built in one place, ``ReplyBuilder.reply`` (``_chat_text``), from what the turn received.
"""

from __future__ import annotations

import attrs

from ..routing import SuggestedAction
from .events import ChatEvent, ToolCall, ToolResult

__all__ = ["ChatReply"]


# attrs, like the events it holds (pydantic would need arbitrary types for them).
# Frozen: build a changed copy with ``attrs.evolve(reply, suggested_actions=[...])``.
@attrs.frozen(kw_only=True)
class ChatReply:
    """What one chat turn produced.

    Attributes:
        session_id: the chat's session.
        text: the reply's full text (ADK partial pieces and their final repetition
            counted once); may be empty, as for about 30% of edits.
        events: every typed event received, in order.
        tool_calls: the tool calls among ``events``.
        tool_results: the tool results among ``events``.
        draft_changed: the session's draft changed during the turn.
        summary: a human summary of the change, when one was made.
        interrupted: the stream dropped, but the change was confirmed from the session state.
        suggested_actions: the API actions behind the reply's GUI instructions
            ("click Export" is an export); see :func:`nemo_sdk.routing.suggest_actions`.
    """

    session_id: str
    text: str = ""
    events: list[ChatEvent] = attrs.field(factory=list, repr=False)
    tool_calls: list[ToolCall] = attrs.field(factory=list)
    tool_results: list[ToolResult] = attrs.field(factory=list)
    draft_changed: bool = False
    summary: str | None = None
    interrupted: bool = False
    suggested_actions: list[SuggestedAction] = attrs.field(factory=list)
