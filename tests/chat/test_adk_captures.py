"""nemo.chat on streams captured from google-adk 2.13's own server (``tests/unit/fixtures/adk``,
copied from ``tests/adk/captures``), replayed byte for byte by a scripted server.

Every case, in both modes: each model turn's text once in ``reply.text`` and in the new
text, each call once, a failed turn as ``ChatTurnError``, and no ``UnknownEvent``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemo_sdk import (
    ChatEvent,
    ChatSettings,
    ChatTurnError,
    EventHandler,
    SessionNotFoundError,
    Timeouts,
    ToolCall,
    UnknownEvent,
)

from .scripted import SESSION, Script, scripted

CAPTURES = Path(__file__).resolve().parent.parent / "unit" / "fixtures" / "adk"
DONE = "All done: your edit is in."

# case -> (reply text, tool calls, error code); the same in both modes unless noted.
EXPECTED: dict[str, tuple[str, list[str], str | None]] = {
    "text": ("Hello! I can make videos.", [], None),
    "text_and_call": (f"Sure, generating it now.\n\n{DONE}", ["generate_video"], None),
    "tool_then_text": (DONE, ["add_bgm"], None),
    "two_calls": (DONE, ["generate_video", "add_bgm"], None),
    "silent_tool": (DONE, ["render_preview"], None),
    "thought": ("Here is the plan.", [], None),
    "actions": ("", ["save_note"], None),
    "role_only": ("Done.", [], None),
    "error_event": ("", [], "SAFETY"),  # streamed: "Let me" came before the error
    "no_content": ("", [], "MODEL_RETURNED_NO_CONTENT"),
    "model_raises": ("", [], "RuntimeError"),
    "raises_midway": ("", [], "RuntimeError"),  # streamed: "Starting now," came first
}
STREAMED_TEXT = {"error_event": "Let me", "raises_midway": "Starting now,"}
CASES = [(case, mode) for case in EXPECTED for mode in ("plain", "streaming")]


def capture(case: str, mode: str) -> bytes:
    return (CAPTURES / f"{case}.{mode}.sse").read_bytes()


def chunks(body: bytes, size: int = 97) -> list[bytes | float]:
    """Cut anywhere: the decoder must not care where the network splits the stream."""
    return [body[i : i + size] for i in range(0, len(body), size)]


class Seen(EventHandler):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.texts: list[str] = []

    async def on_tool_call(self, event: ToolCall) -> None:
        self.calls.append(event.name)

    async def on_reply_text(self, text: str) -> None:
        self.texts.append(text)


def test_every_case_was_captured_in_both_modes() -> None:
    names = {p.name for p in CAPTURES.glob("*.sse")}
    assert names == {f"{case}.{mode}.sse" for case, mode in CASES}


@pytest.mark.parametrize(("case", "mode"), CASES)
async def test_send_on_a_captured_stream(case: str, mode: str) -> None:
    text, calls, code = EXPECTED[case]
    if mode == "streaming":
        text = STREAMED_TEXT.get(case, text)
    seen = Seen()
    async with scripted(Script(steps=chunks(capture(case, mode)))) as (nemo, script):
        if code is None:
            reply = await nemo.chat.send(SESSION, "go", handler=seen, streaming=mode == "streaming")
        else:
            with pytest.raises(ChatTurnError) as info:
                await nemo.chat.send(SESSION, "go", handler=seen, streaming=mode == "streaming")
            assert info.value.code == code and info.value.message
            reply = info.value.reply
    assert reply.text == text
    assert "".join(seen.texts) == text
    assert [c.name for c in reply.tool_calls] == calls == seen.calls
    assert len({c.id for c in reply.tool_calls}) == len(calls)
    assert not [e for e in reply.events if isinstance(e, UnknownEvent)]
    assert ("streaming" in script.bodies[0]) is (mode == "streaming")
    assert len(script.bodies) == 1


@pytest.mark.parametrize(("case", "mode"), [c for c in CASES if EXPECTED[c[0]][2] is None])
async def test_stream_and_text_deltas_on_a_captured_stream(case: str, mode: str) -> None:
    text, calls, _ = EXPECTED[case]
    body = capture(case, mode)
    async with scripted(Script(steps=chunks(body))) as (nemo, _):
        async with nemo.chat.stream(SESSION, "go") as events:
            received: list[ChatEvent] = [event async for event in events]
        async with nemo.chat.stream(SESSION, "go") as again:
            pieces = [piece async for piece in again.text_deltas()]
    assert [e.name for e in received if isinstance(e, ToolCall)] == calls
    assert events.reply.events == received
    assert "".join(pieces) == again.reply.text == text


async def test_a_silent_tool_from_the_capture_outlasts_the_read_timeout() -> None:
    # The capture's tool ran 0.3 s with nothing on the wire; here, 0.5 s against a 0.2 s
    # read timeout: silence is normal up to heartbeat_timeout.
    body = capture("silent_tool", "plain")
    cut = body.index(b'data: {"content":{"parts":[{"functionResponse"')
    chat = ChatSettings(heartbeat_timeout=5.0)
    timeouts = Timeouts(connect=2.0, read=0.2, total=1.0)
    script = Script(steps=[body[:cut], 0.5, body[cut:]])
    async with scripted(script, timeouts=timeouts, chat_settings=chat) as (nemo, _):
        reply = await nemo.chat.send(SESSION, "preview it")
    assert reply.text == DONE and not reply.interrupted


async def test_the_captured_404_is_session_not_found() -> None:
    body = json.loads((CAPTURES / "unknown_session.404.json").read_text())
    async with scripted(Script(status=404, error_body=body)) as (nemo, _):
        with pytest.raises(SessionNotFoundError, match="Session not found: no-such-session"):
            await nemo.chat.send(SESSION, "hi")
