"""Chat fixtures: an emulator per test with chat knobs, and a client whose waits are instant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from nemo_sdk import ChatSettings, NemoClient
from nemo_sdk.emulator import Emulator
from tests.conftest import FAST_RETRY


class FakeSleep:
    """Records every wait and returns at once (the chat recovery waits 30 s, then 60 s...)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    @property
    def total(self) -> float:
        return sum(self.calls)


Rig = Callable[..., AbstractAsyncContextManager[tuple[Emulator, NemoClient, str]]]


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def rig(fake_sleep: FakeSleep) -> Rig:
    """``async with rig(**emulator_knobs, chat=ChatSettings(...)) as (emu, nemo, session_id)``."""

    @asynccontextmanager
    async def make(
        *, chat: ChatSettings | None = None, real_sleep: bool = False, **knobs: Any
    ) -> AsyncIterator[tuple[Emulator, NemoClient, str]]:
        knobs.setdefault("starting_credits", 1000)
        knobs.setdefault("no_text_rate", 0.0)
        async with (
            Emulator(render_seconds=0.05, **knobs) as emu,
            NemoClient(
                base_url=emu.url,
                retry=FAST_RETRY,
                sleep=None if real_sleep else fake_sleep,
                chat_settings=chat,
            ) as nemo,
        ):
            session = await nemo.sessions.create(language="en")
            yield emu, nemo, session.id

    return make
