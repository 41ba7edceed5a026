"""A chat turn whose stream never started: API.md's drop rules, not a bare timeout.

Once ``POST /run_sse`` has been sent, the service may be working on the message
even if no answer came before the timeout; API.md says what to do when a chat
stream is lost: watch the state, never send the message again.
"""

from __future__ import annotations

import aiohttp
import pytest

from nemo_sdk import APITimeoutError, ChatSettings, StreamInterrupted, Timeouts
from nemo_sdk._http.response import connection_error
from nemo_sdk.emulator.routes_chat import turns
from nemo_sdk.testing import RecordingSleep

from .conftest import Rig

# The stream's first byte may take 0.1 s (the chat stream's idle limit is the longer of
# the read timeout and ``heartbeat_timeout``: both are 0.1 s here); the emulator's
# ``slow`` fault waits longer before it takes the message (and then applies it, as
# the service does).
NO_FIRST_BYTE = Timeouts(connect=2.0, read=0.1, total=5.0)
SILENCE = 0.1
EDIT = "add a title 'Late' for 2 s"


async def test_no_first_byte_then_the_edit_lands_recovers_from_the_state(rig: Rig) -> None:
    watch = ChatSettings(
        drop_wait=0.05, poll_interval=0.05, unchanged_reads=20, heartbeat_timeout=SILENCE
    )
    async with rig(chat=watch, real_sleep=True) as (emu, nemo, sid):
        emu.faults.add("chat", "slow", delay=0.3, after_accept=True)
        quick = nemo.with_options(timeout=NO_FIRST_BYTE)
        reply = await quick.chat.send(sid, EDIT)
        assert reply.interrupted and reply.draft_changed
        assert reply.summary is not None and "Late" in reply.summary
        assert emu.count("chat") == 1, "the message must never be sent twice"
        assert len(turns(emu)) == 1
        assert emu.store.sessions[sid].applied_edits == 1


async def test_no_first_byte_and_no_change_raises_stream_interrupted(
    rig: Rig, nemo_sleep: RecordingSleep
) -> None:
    documented = ChatSettings(
        drop_wait=30.0, poll_interval=60.0, unchanged_reads=3, heartbeat_timeout=SILENCE
    )
    async with rig(chat=documented) as (emu, nemo, sid):
        emu.faults.add("chat", "slow", delay=0.4, after_accept=True)
        quick = nemo.with_options(timeout=NO_FIRST_BYTE)
        state_reads = emu.count("state")
        with pytest.raises(StreamInterrupted, match="not re-sent") as info:
            await quick.chat.send(sid, EDIT)
        assert info.value.session_id == sid
        assert isinstance(info.value.__cause__, APITimeoutError)
        # Waited as API.md says (30 s, then every 60 s), reading the state each time.
        assert nemo_sleep.total == 30.0 + 60.0 + 60.0
        assert emu.count("state") - state_reads == 1 + 3  # the draft before, then 3 reads
        assert emu.count("chat") == 1


async def test_a_stream_user_gets_the_recovery_when_iterating(rig: Rig) -> None:
    watch = ChatSettings(
        drop_wait=0.05, poll_interval=0.05, unchanged_reads=20, heartbeat_timeout=SILENCE
    )
    async with rig(chat=watch, real_sleep=True) as (emu, nemo, sid):
        emu.faults.add("chat", "slow", delay=0.3, after_accept=True)
        quick = nemo.with_options(timeout=NO_FIRST_BYTE)
        async with quick.chat.stream(sid, EDIT) as events:
            received = [event async for event in events]
        assert received == []
        assert events.reply.interrupted and events.reply.draft_changed
        assert emu.count("chat") == 1


def test_only_a_failure_to_connect_proves_the_message_was_not_sent() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)

    def unsent(cause: BaseException) -> bool:
        return not connection_error(cause, "POST /run_sse", answered=False).request_sent

    assert unsent(aiohttp.ConnectionTimeoutError())
    assert unsent(aiohttp.ClientConnectorError(key, OSError(111, "refused")))
    # Read timeouts and broken answers: the server may have taken the message.
    assert not unsent(aiohttp.SocketTimeoutError())
    assert not unsent(aiohttp.ServerDisconnectedError())
    assert not unsent(aiohttp.ClientOSError(104, "reset"))
