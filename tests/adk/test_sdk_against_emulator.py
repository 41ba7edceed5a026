"""The SDK against the emulator's ADK shape, with the knobs and faults that mimic ADK.

Runs without google-adk: the emulator must give the SDK what ADK gives it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

import nemo_sdk
from nemo_sdk import ChatSettings, NemoClient, SessionNotFoundError, Timeouts, ToolCall
from nemo_sdk.emulator import Emulator
from tests.adk.capture import body
from tests.conftest import FAST_RETRY

EDIT = "add lo-fi BGM at 35%"
MODES = {"plain": False, "streaming": True}


def _kwargs(streaming: bool) -> dict[str, Any]:
    return {"streaming": True} if streaming else {}


@asynccontextmanager
async def _rig(read: float = 5.0, **knobs: Any) -> AsyncIterator[tuple[Emulator, NemoClient, str]]:
    """An emulator with ``knobs``, a client (read-idle timeout ``read``), a session."""
    async with (
        Emulator(render_seconds=0.05, starting_credits=1000, **knobs) as emu,
        NemoClient(
            base_url=emu.url,
            retry=FAST_RETRY,
            timeouts=Timeouts(connect=5.0, read=read, total=30.0),
            chat_settings=ChatSettings(heartbeat_timeout=30.0, drop_wait=0.01, poll_interval=0.01),
        ) as nemo,
    ):
        yield emu, nemo, (await nemo.sessions.create()).id


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "RuntimeError"),
        ({"code": "SAFETY", "message": "blocked", "text": "Let me "}, "SAFETY"),
        ({"code": "MODEL_RETURNED_NO_CONTENT"}, "MODEL_RETURNED_NO_CONTENT"),
    ],
)
async def test_turn_error_fault_is_a_chat_turn_error(
    params: dict[str, Any], code: str, mode: str
) -> None:
    async with _rig() as (emu, nemo, sid):
        emu.faults.add("chat", "turn_error", **params)
        with pytest.raises(nemo_sdk.ChatTurnError) as info:
            await nemo.chat.send(sid, EDIT, **_kwargs(MODES[mode]))
        assert info.value.code == code
        assert emu.count("chat") == 1  # never re-sent
        assert emu.store.sessions[sid].applied_edits == 0


@pytest.mark.parametrize("mode", MODES)
async def test_silent_tool_outlasting_the_read_timeout(mode: str) -> None:
    """Real ADK is silent while a tool runs: the chat stream waits up to heartbeat_timeout."""
    async with _rig(read=0.3, adk_keepalives=False) as (emu, nemo, sid):
        emu.faults.add("chat", "silent", seconds=1.0)
        reply = await nemo.chat.send(sid, EDIT, **_kwargs(MODES[mode]))
    assert [c.name for c in reply.tool_calls] == ["add_bgm"]
    assert not reply.interrupted


async def test_silent_fault_sends_nothing_for_its_seconds() -> None:
    async with (
        Emulator(starting_credits=1000, heartbeat_every=0.02, require_attribution=False) as emu,
        aiohttp.ClientSession() as http,
    ):
        auth = {"Authorization": f"Bearer {emu.issue_token()}"}
        async with http.post(
            f"{emu.url}/api/tasks/me/with-session/nemo_agent", json={}, headers=auth
        ) as r:
            sid = (await r.json())["data"]["session_id"]
        emu.faults.add("chat", "silent", seconds=0.5)
        arrivals = []
        async with http.post(f"{emu.url}/run_sse", json=body(sid, EDIT, False), headers=auth) as r:
            async for _ in r.content.iter_any():
                arrivals.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) >= 0.45


@pytest.mark.parametrize("mode", MODES)
async def test_streaming_turn_reports_each_call_once(mode: str) -> None:
    knobs = {"text_with_call": True, "thoughts": True, "actions_events": True, "no_text_rate": 0}
    async with (
        _rig(**knobs) as (_, nemo, sid),
        nemo.chat.stream(sid, EDIT, **_kwargs(MODES[mode])) as stream,
    ):
        events = [e async for e in stream]
    assert [e.name for e in events if isinstance(e, ToolCall)] == ["add_bgm"]
    assert stream.reply.text.count("Sure, running add_bgm now.") == 1
    assert stream.reply.text.count("Added BGM 'Lo-fi' at 35% volume.") == 1
    assert "Planning" not in stream.reply.text
    assert any(isinstance(e, nemo_sdk.Thought) for e in events)
    assert any(isinstance(e, nemo_sdk.ActionsEvent) for e in events)
    assert not any(isinstance(e, nemo_sdk.UnknownEvent) for e in events)


async def test_unknown_session_is_session_not_found() -> None:
    async with _rig() as (_, nemo, _sid):
        with pytest.raises(SessionNotFoundError):
            await nemo.chat.send("ses_missing", EDIT)
