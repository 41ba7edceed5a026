"""The ``nemo`` command under click's CliRunner, against an emulator served from a thread.

CliRunner.invoke is synchronous and the command calls ``asyncio.run`` itself,
so these tests are plain functions; the emulator (``nemo_emulator``, from the
``nemo_sdk.testing`` plugin) runs its own loop in a background thread.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from nemo_sdk import NemoClient, offline
from nemo_sdk.cli.app import cli
from nemo_sdk.emulator import Emulator

Nemo = Callable[..., Result]

SMALL_CLIP = {
    "render_seconds": 0.05,
    "clip_seconds": 1.0,
    "clip_width": 160,
    "clip_height": 90,
    "clip_fps": 12,
    "canvas_width": 160,
    "canvas_height": 90,
}


@pytest.fixture
def nemo_emulator_knobs() -> dict[str, Any]:
    """Small clips, fast renders, credits for a few turns (override with the marker)."""
    return {**SMALL_CLIP, "starting_credits": 1000}


@pytest.fixture(autouse=True)
def small_embedded_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--emulator`` with a small clip: the 720p default is for people, not test runs."""
    monkeypatch.setattr(offline, "DEMO_KNOBS", {**offline.DEMO_KNOBS, **SMALL_CLIP})


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``nemo ARGS`` in this process."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def nemo(nemo_emulator: Emulator) -> Nemo:
    """``nemo(*args)``: the command against the test's emulator, polling fast."""

    def run(*args: str, input: str | None = None) -> Result:
        return invoke("--api-url", nemo_emulator.url, "--poll-interval", "0.01", *args, input=input)

    return run


def ok(result: Result) -> Result:
    """``result``, after checking that the command succeeded (its output otherwise)."""
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}"
    return result


def doc(result: Result) -> Any:
    """The one JSON document of a ``--json`` run's stdout."""
    return json.loads(result.stdout)


@pytest.fixture
def session_with_video(nemo: Nemo) -> str:
    """A session whose timeline holds a generated clip (made through the command)."""
    sid = ok(nemo("sessions", "create")).stdout.strip()
    ok(nemo("chat", sid, "-m", "generate a red fox in the snow"))
    return sid


def run_sdk(emu: Emulator, work: Callable[[NemoClient], Any]) -> Any:
    """Run ``await work(client)`` with a client sharing the command's token and journal."""

    async def main() -> Any:
        token = json.loads(_token_file().read_text())[emu.url]["token"]
        async with NemoClient(base_url=emu.url, token=token) as client:
            return await work(client)

    return asyncio.run(main())


def _token_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "nemovideo" / "tokens.json"
