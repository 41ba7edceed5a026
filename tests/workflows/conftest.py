"""An emulator that makes small clips quickly, with credits for many turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemo_sdk import NemoClient, RenderSettings
from nemo_sdk.emulator import Emulator
from tests.conftest import FAST_RETRY


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(
        starting_credits=10_000,
        render_seconds=0.05,
        clip_seconds=1,
        clip_width=160,
        clip_height=90,
        clip_fps=12,
        canvas_width=160,
        canvas_height=90,
    ) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[NemoClient]:
    async with NemoClient(
        base_url=emulator.url,
        retry=FAST_RETRY,
        render_settings=RenderSettings(poll_interval=0.01),
        journal_path=tmp_path / "journal.sqlite3",
    ) as nemo:
        yield nemo
