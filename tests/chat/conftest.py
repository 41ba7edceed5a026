"""Chat fixtures: an emulator per test with chat knobs, and a client whose waits are instant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from nemo_sdk import ChatSettings, NemoClient
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import RecordingSleep, emulator_rig

Rig = Callable[..., AbstractAsyncContextManager[tuple[Emulator, NemoClient, str]]]


@pytest.fixture
def rig(nemo_sleep: RecordingSleep) -> Rig:
    """``async with rig(**emulator_knobs, chat=ChatSettings(...)) as (emu, nemo, session_id)``.

    The client's waits go to the ``nemo_sleep`` fixture (the chat recovery waits 30 s,
    then 60 s...), unless ``real_sleep=True``.
    """

    @asynccontextmanager
    async def make(
        *, chat: ChatSettings | None = None, real_sleep: bool = False, **knobs: Any
    ) -> AsyncIterator[tuple[Emulator, NemoClient, str]]:
        knobs.setdefault("render_seconds", 0.05)
        knobs.setdefault("starting_credits", 1000)
        knobs.setdefault("no_text_rate", 0.0)
        async with emulator_rig(chat=chat, sleep=nemo_sleep, real_sleep=real_sleep, **knobs) as r:
            yield r.emu, r.nemo, r.session_id

    return make
