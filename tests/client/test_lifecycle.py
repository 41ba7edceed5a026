"""A client belongs to one event loop; a ``with_options`` copy shares its pool but not its close."""

from __future__ import annotations

import asyncio

import pytest

from nemo_sdk import ClientClosedError, EventLoopMismatchError, NemoClient, NemoError
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.threaded import emulator_in_thread

from ..conftest import FAST_RETRY


def test_a_second_event_loop_gets_a_typed_error_that_says_what_to_do() -> None:
    with emulator_in_thread() as emu:
        nemo = NemoClient(base_url=emu.url, retry=FAST_RETRY, journal_path=False)
        asyncio.run(nemo.credits.balance())  # the first loop: made the pool, then ended
        with pytest.raises(EventLoopMismatchError) as info:
            asyncio.run(nemo.credits.balance())
        asyncio.run(nemo.close())  # closing from another loop is allowed: nothing to await
        assert nemo.closed
        requests = len(emu.requests)
    error = info.value
    assert isinstance(error, NemoError) and isinstance(error, RuntimeError)
    message = str(error)
    assert "event loop" in message and "inside" in message  # what happened, what to do
    assert requests == 2  # the token call and one balance: the second loop sent nothing


def test_a_second_loop_while_the_first_still_runs_is_refused_too() -> None:
    with emulator_in_thread() as emu:
        nemo = NemoClient(base_url=emu.url, retry=FAST_RETRY, journal_path=False)
        first = asyncio.new_event_loop()
        try:
            first.run_until_complete(nemo.credits.balance())
            with pytest.raises(EventLoopMismatchError):
                asyncio.run(nemo.credits.balance())
            first.run_until_complete(nemo.credits.balance())  # its own loop still works
            first.run_until_complete(nemo.close())
        finally:
            first.close()


async def test_closing_a_copy_leaves_the_original_open(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        async with nemo.with_options(timeout=5.0) as quick:
            await quick.credits.balance()
        await quick.close()  # closing a copy twice is fine too
        assert not nemo.closed and not quick.closed  # the pool is the original's
        await nemo.credits.balance()
        await quick.credits.balance()  # the copy keeps working while the original is open
        copy = nemo.with_options(max_retries=0)
    assert nemo.closed and copy.closed  # closing the original closes the pool for all
    with pytest.raises(ClientClosedError):
        await copy.credits.balance()
