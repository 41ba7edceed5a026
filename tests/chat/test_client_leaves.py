"""A client that leaves mid-stream is normal: the emulator carries on quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nemo_sdk.emulator.routes_chat import turns
from nemo_sdk.events import Heartbeat

from .conftest import Rig


async def test_a_client_leaving_mid_stream_logs_no_traceback(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The agent thinks for 0.2 s with keep-alives; the client leaves at the first one,
    # so the turn's later writes and its end of stream meet a closed connection.
    async with rig(think_seconds=0.2, heartbeat_every=0.02) as (emu, nemo, sid):
        async with nemo.chat.stream(sid, "add a title 'Left' for 2 s") as events:
            async for event in events:
                assert isinstance(event, Heartbeat)
                break
        session = emu.store.sessions[sid]
        for _ in range(100):
            if turns(emu)[0].disconnected and session.applied_edits:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the handler's last writes and its end of stream
        (turn,) = turns(emu)
        assert turn.disconnected and not turn.completed
        # The work is still done, as the service does once it accepted a message.
        assert session.applied_edits == 1
        assert session.draft is not None and "Left" in str(session.draft)
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
