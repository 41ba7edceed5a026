"""The stream rules of API.md "POST /run_sse": no text, drops, heartbeat-only timeout, retries."""

from __future__ import annotations

import asyncio

import pytest

from nemo_sdk import (
    ChatSettings,
    EventHandler,
    InsufficientCreditsError,
    StreamInterrupted,
    TextDelta,
    ToolCall,
    ToolResult,
)
from nemo_sdk.emulator.routes_chat import turns
from nemo_sdk.testing import RecordingSleep

from .conftest import Rig


async def test_no_text_reply_is_summarised_from_the_draft_diff(rig: Rig) -> None:
    async with rig(no_text_rate=1.0) as (emu, nemo, sid):
        await nemo.chat.send(sid, "add a title 'Paradise Found' for 3 s")
        reply = await nemo.chat.send(sid, "add lo-fi BGM at 35%")
    assert reply.text == ""
    assert not [e for e in reply.events if isinstance(e, TextDelta)]
    assert [c.name for c in reply.tool_calls] == ["add_bgm"]
    assert reply.draft_changed
    assert reply.summary == "Added BGM track: Lo-fi (0-3s, 35%)"
    assert emu.count("state") == 4  # before and after each message


async def test_no_text_rate_is_a_seeded_share_of_edits(rig: Rig) -> None:
    async with rig(no_text_rate=0.5, seed=7) as (_, nemo, sid):
        replies = [await nemo.chat.send(sid, f"add a title 'T{i}' for 1 s") for i in range(12)]
    silent = [r for r in replies if not r.text]
    assert 0 < len(silent) < 12
    assert all(r.summary and r.summary.startswith("Added title") for r in silent)


async def test_drop_after_the_edit_returns_an_interrupted_reply(
    rig: Rig, nemo_sleep: RecordingSleep
) -> None:
    async with rig() as (emu, nemo, sid):
        emu.faults.add("chat", "drop")
        reply = await nemo.chat.send(sid, "add a title 'Dropped' for 2 s")
        assert emu.count("chat") == 1  # never re-sent
        assert emu.store.sessions[sid].applied_edits == 1
    assert turns(emu)[0].dropped
    assert reply.interrupted and reply.draft_changed
    assert reply.summary == 'Added title: "Dropped" (0-2s); Duration: 2s'
    assert [type(e) for e in reply.events if not isinstance(e, ToolCall)].count(ToolResult) == 0
    assert nemo_sleep.waits == [30.0]  # API.md: wait 30 s, then read the state


async def test_drop_before_the_edit_raises_after_five_unchanged_reads(
    rig: Rig, nemo_sleep: RecordingSleep
) -> None:
    async with rig() as (emu, nemo, sid):
        emu.faults.add("chat", "drop", before_apply=True)
        with pytest.raises(StreamInterrupted) as info:
            await nemo.chat.send(sid, "add music")
        assert emu.count("chat") == 1  # never re-sent
        assert emu.count("state") == 1 + 5
        assert emu.store.sessions[sid].applied_edits == 0
        balance = await nemo.credits.balance()
    # 30 s, then 60 s four times (split where the 2-minute still-working notices fall).
    assert nemo_sleep.total == pytest.approx(30 + 4 * 60, abs=0.5)
    assert nemo_sleep.waits[:2] == [30.0, 60.0]
    error = info.value
    assert error.session_id == sid
    assert [type(e) for e in error.received if isinstance(e, ToolCall)] == [ToolCall]
    assert "5 reads" in str(error) and "not re-sent" in str(error)
    assert balance.available == 1000 and balance.frozen == 0  # the abandoned edit was refunded


async def test_recovery_waits_are_configurable_and_fire_still_working(
    rig: Rig, nemo_sleep: RecordingSleep
) -> None:
    elapsed: list[float] = []

    class Notices(EventHandler):
        async def on_still_working(self, elapsed_seconds: float) -> None:
            elapsed.append(elapsed_seconds)

    # Per call, over the client's settings.
    chat = ChatSettings(drop_wait=10, poll_interval=20, unchanged_reads=3, still_working_every=25)
    async with rig(chat=ChatSettings(drop_wait=1000)) as (emu, nemo, sid):
        emu.faults.add("chat", "drop", before_apply=True)
        with pytest.raises(StreamInterrupted):
            await nemo.chat.send(sid, "add music", handler=Notices(), settings=chat)
    assert sum(nemo_sleep.waits) == pytest.approx(10 + 20 + 20, abs=0.5)
    assert [round(e) for e in elapsed] == [25, 50]


async def test_a_drop_mid_text_keeps_what_was_received(rig: Rig) -> None:
    async with rig() as (emu, nemo, sid):
        emu.faults.add("chat", "drop")
        with pytest.raises(StreamInterrupted) as info:
            await nemo.chat.send(sid, "hello there")
    assert info.value.text.startswith("You")
    assert any(isinstance(e, TextDelta) for e in info.value.received)


async def test_heartbeats_only_is_a_timeout_recovered_from_the_state(rig: Rig) -> None:
    # The agent thinks 0.4 s sending only keep-alives; the client gives up after 0.1 s,
    # then finds the edit in the state, which the agent applied after the client left.
    chat = ChatSettings(heartbeat_timeout=0.1, drop_wait=0.05, poll_interval=0.2)
    async with rig(chat=chat, real_sleep=True, think_seconds=0.4, heartbeat_every=0.02) as (
        emu,
        nemo,
        sid,
    ):
        reply = await nemo.chat.send(sid, "add a title 'Late' for 1 s")
        assert emu.count("chat") == 1
        assert emu.store.sessions[sid].applied_edits == 1
    assert reply.interrupted and reply.draft_changed
    assert not reply.tool_calls
    assert reply.summary is not None and "Late" in reply.summary


async def test_the_overall_cap_ends_a_stream_like_a_drop(rig: Rig) -> None:
    chat = ChatSettings(overall_cap=0.1, heartbeat_timeout=60)
    # The edit would land 1 s in: long after the (instant) recovery reads, even on a
    # loaded machine.
    async with rig(chat=chat, think_seconds=1.0, heartbeat_every=0.02) as (emu, nemo, sid):
        with pytest.raises(StreamInterrupted) as info:
            await nemo.chat.send(sid, "make it 1:1")
        assert emu.count("chat") == 1
    assert "0.1 s cap" in str(info.value)


async def test_still_working_fires_while_the_stream_waits(rig: Rig) -> None:
    seen: list[float] = []

    class Notices(EventHandler):
        async def on_still_working(self, elapsed_seconds: float) -> None:
            seen.append(elapsed_seconds)

    chat = ChatSettings(still_working_every=0.1)
    async with rig(chat=chat, think_seconds=0.35, heartbeat_every=0.5) as (_, nemo, sid):
        reply = await nemo.chat.send(sid, "make it 4:5", handler=Notices())
    assert reply.text.startswith("The canvas is now 4:5")
    assert 3 <= len(seen) <= 4  # at 0.1, 0.2, 0.3 s (0.4 s on a slow machine)
    assert seen == sorted(seen) and seen[0] >= 0.1


async def test_trailing_temporary_issue_after_success_is_noise(rig: Rig) -> None:
    async with rig(temporary_issue_rate=1.0) as (_, nemo, sid):
        reply = await nemo.chat.send(sid, "add a title 'Fine' for 1 s")
    said = [e.text for e in reply.events if isinstance(e, TextDelta) and not e.partial]
    assert any("temporary issue" in t for t in said)
    assert reply.text == "Added the title 'Fine' for 1 s."


async def test_trailing_temporary_issue_alone_falls_back_to_the_diff(rig: Rig) -> None:
    async with rig(temporary_issue_rate=1.0, no_text_rate=1.0) as (_, nemo, sid):
        reply = await nemo.chat.send(sid, "add a title 'Quiet' for 1 s")
    assert reply.text == ""
    assert reply.summary == 'Added title: "Quiet" (0-1s); Duration: 1s'


@pytest.mark.parametrize("kind", ["1001", "429"])
async def test_1001_and_429_before_the_stream_are_retried(rig: Rig, kind: str) -> None:
    async with rig() as (emu, nemo, sid):
        emu.faults.add("chat", kind, retry_after="0")
        reply = await nemo.chat.send(sid, "add a title 'Again' for 1 s")
        assert emu.count("chat") == 2
        assert len(turns(emu)) == 1
        assert emu.store.sessions[sid].applied_edits == 1
    assert reply.text == "Added the title 'Again' for 1 s."


async def test_generation_charges_credits_frozen_while_running(rig: Rig) -> None:
    async with rig(starting_credits=150, sse_delay=0.15) as (emu, nemo, sid):
        async with nemo.chat.stream(sid, "generate a sunset over the ocean") as events:
            async for event in events:
                if isinstance(event, ToolCall):
                    running = await nemo.credits.balance()
        done = await nemo.credits.balance()
        reply = events.reply
        clip_url = reply.tool_results[0].result["url"]
        assert emu.count("media") == 0
        with pytest.raises(InsufficientCreditsError):
            await nemo.chat.send(sid, "generate another one")
        state = await nemo.state.get(sid)
    assert (running.available, running.frozen) == (50, 100)
    assert (done.available, done.frozen) == (50, 0)
    assert state.draft is not None
    assert state.draft.tracks[0].segments[0].metadata["url"] == clip_url
    assert reply.summary is not None and reply.summary.startswith("Added video track")


async def test_edits_cost_once_per_session(rig: Rig) -> None:
    async with rig(starting_credits=100, edit_cost=50) as (_, nemo, sid):
        await nemo.chat.send(sid, "add a title 'One' for 1 s")
        await nemo.chat.send(sid, "add a title 'Two' for 1 s")
        balance = await nemo.credits.balance()
    assert balance.available == 50


async def test_concurrent_turns_do_not_share_state(rig: Rig) -> None:
    async with rig() as (_, nemo, sid):
        other = (await nemo.sessions.create()).id
        a, b = await asyncio.gather(
            nemo.chat.send(sid, "add a title 'A' for 1 s"),
            nemo.chat.send(other, "add a title 'B' for 1 s"),
        )
    assert a.summary is not None and '"A"' in a.summary
    assert b.summary is not None and '"B"' in b.summary
