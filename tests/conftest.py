"""Shared fixtures: an isolated environment, a live emulator on 127.0.0.1, a fast client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import NemoClient
from nemo_sdk._util.logging import logger as sdk_logger
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import FAST_RETRY, Rig, emulator_rig

pytest_plugins = ["pytester"]

__all__ = ["FAST_RETRY"]  # the suite's tests import it from here


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, hand out the ``slow`` tests first, the longest (``seconds=``) first.

    One long test started last is the run's tail. The sort is stable and the same on
    every worker (xdist checks that they collected the same list); a serial run keeps
    the files' order.
    """
    if hasattr(config, "workerinput"):
        items.sort(key=_slow_seconds, reverse=True)


def _slow_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("slow")
    return 0.0 if marker is None else float(marker.kwargs.get("seconds", 1.0))


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test reads the developer's NEMO_* settings or writes their ~/.config."""
    for name in (
        "NEMO_TOKEN",
        "NEMO_API_URL",
        "NEMO_WEB_URL",
        "NEMO_CLIENT_ID",
        "NEMO_TOKEN_CACHE",
        "NEMO_LOG",
        "SKILL_SOURCE",
        # The client honours proxies by default: the suite talks to 127.0.0.1 directly.
        *("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"),
        *("http_proxy", "https_proxy", "all_proxy", "no_proxy"),
    ):
        monkeypatch.delenv(name, raising=False)
    config_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


@pytest.fixture(autouse=True)
def sdk_logger_restored() -> Iterator[None]:
    """Undo what a test's ``NEMO_LOG=debug`` client did to the SDK's logger.

    The SDK configures its logger once per process, with a handler on the stderr of
    that moment (a test's capture, closed after it): left in place, every later test
    in the process, in whatever order xdist or a selection runs them, logs into a
    closed stream and at DEBUG.
    """
    handlers, level = list(sdk_logger.handlers), sdk_logger.level
    configured = getattr(sdk_logger, "_nemo_configured", None)
    yield
    sdk_logger.handlers[:] = handlers
    sdk_logger.setLevel(level)
    if configured is None:
        sdk_logger.__dict__.pop("_nemo_configured", None)
    else:
        sdk_logger._nemo_configured = configured  # type: ignore[attr-defined]


@pytest.fixture
async def plain_rig() -> AsyncIterator[Rig]:
    """The plugin's rig with the emulator's default knobs, real waits and no session.

    Exports render at the rig's 160x90 canvas unless the draft gives a size.
    """
    async with emulator_rig(session=False, real_sleep=True, render_seconds=0.05) as rig:
        yield rig


@pytest.fixture
def emulator(plain_rig: Rig) -> Emulator:
    return plain_rig.emu


@pytest.fixture
def client(plain_rig: Rig) -> NemoClient:
    """A client on ``emulator`` retrying by the API's rules with millisecond waits."""
    return plain_rig.nemo


async def export_rendered(
    nemo: NemoClient, emu: Emulator, session_id: str, draft: dict[str, Any]
) -> str:
    """Export ``draft`` through the SDK (so it is journaled); wait server-side for the file."""
    job = await nemo.renders.export(session_id, draft)
    record = emu.renders[job.id]
    for _ in range(1000):
        if record.status in ("completed", "failed"):
            break
        await asyncio.sleep(0.005)
    assert record.status == "completed", record.error
    return job.id
