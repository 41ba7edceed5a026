"""``python -m nemo_sdk.emulator``: a developer's server by default, the service's numbers
with ``--realistic``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from nemo_sdk import InsufficientCreditsError, NemoClient
from nemo_sdk.emulator.__main__ import DEV_CREDITS, standalone_settings

pytest.importorskip("av")


def test_the_modes_defaults() -> None:
    dev = standalone_settings()
    assert dev["starting_credits"] == DEV_CREDITS and dev["fresh_client_tokens"]
    real = standalone_settings(realistic=True)
    assert real == {
        "starting_credits": 100,
        "tokens_per_ip": 10,
        "reissue_client_tokens": True,
        "fresh_client_tokens": False,
    }
    assert standalone_settings(starting_credits=7)["starting_credits"] == 7
    assert not standalone_settings(reissue_client_tokens=False)["fresh_client_tokens"]


@contextmanager
def served(*args: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemo_sdk.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("NemoVideo emulator: API"), line
        yield line.split()[3]  # "NemoVideo emulator: API <url>  CDN <url>"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _balance(url: str, client_id: str) -> int:
    async with NemoClient(base_url=url, client_id=client_id) as nemo:
        return (await nemo.credits.balance()).available


async def _generate_twice(url: str, client_id: str | None = None) -> str:
    async with NemoClient(base_url=url, client_id=client_id) as nemo:
        session = await nemo.sessions.create()
        await nemo.chat.send(session.id, "generate a red fox")
        await nemo.chat.send(session.id, "generate a blue fox")
        return session.id


async def _state(url: str, client_id: str, session_id: str) -> int:
    async with NemoClient(base_url=url, client_id=client_id) as nemo:
        return len((await nemo.state.get(session_id)).draft.tracks)


@pytest.mark.slow
def test_a_development_server_gives_every_run_a_full_balance() -> None:
    with served() as url:
        cid = "0f0e0d0c-0b0a-4909-8807-060504030201"
        assert asyncio.run(_balance(url, cid)) == DEV_CREDITS
        session = asyncio.run(_generate_twice(url, cid))  # spends 200
        # A later run of the same program (same client id): a full balance again, and
        # what the earlier run made is still its own.
        assert asyncio.run(_balance(url, cid)) == DEV_CREDITS
        assert asyncio.run(_state(url, cid, session)) == 1


@pytest.mark.slow
def test_realistic_gives_one_clip_per_anonymous_token() -> None:
    with served("--realistic") as url:
        with pytest.raises(InsufficientCreditsError):
            asyncio.run(_generate_twice(url))
        started = time.monotonic()
        assert asyncio.run(_balance(url, "0f0e0d0c-0b0a-4909-8807-060504030201")) == 100
        assert time.monotonic() - started < 30
