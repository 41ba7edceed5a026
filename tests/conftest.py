"""Shared fixtures: an isolated environment, a live emulator on 127.0.0.1, a fast client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemo_sdk import NemoClient
from nemo_sdk.config import RetrySettings
from nemo_sdk.emulator import Emulator

pytest_plugins = ["pytester"]

FAST_RETRY = RetrySettings(
    max_retries=2,
    rate_limit_wait=0.01,
    max_rate_limit_wait=5.0,
    backoff_initial=0.001,
    backoff_max=0.01,
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test reads the developer's NEMO_* settings or writes their ~/.config."""
    for name in (
        "NEMO_TOKEN",
        "NEMO_API_URL",
        "NEMO_WEB_URL",
        "NEMO_CLIENT_ID",
        "NEMO_LOG",
        "SKILL_SOURCE",
    ):
        monkeypatch.delenv(name, raising=False)
    config_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(render_seconds=0.05) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[NemoClient]:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        yield nemo
