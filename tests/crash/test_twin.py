"""Two processes run the same ``generate_and_export`` at once (a queue delivered the job twice).

Same ``out``, same config home, neither killed: one render, charged once, the file
byte-identical to it, the journal empty, and the other run refused cleanly
(``FileExistsError``: the job's file is in place). See ``harness.py`` for the processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_sdk.testing import emulator_available

from .harness import (
    GENERATION_COST,
    PROMPTS,
    ROOT,
    STARTING_CREDITS,
    EmulatorProcess,
    _client_id,
    _env,
    _files,
    _pending_now,
)

pytestmark = [
    pytest.mark.crash,
    pytest.mark.skipif(not emulator_available(), reason="needs the emulator extra"),
]


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as emu:
        yield emu


@pytest.mark.timeout(60)
def test_two_processes_run_one_job_once(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    xdg, out_dir = tmp_path / "xdg", tmp_path / "out"
    out_dir.mkdir()
    plan = {
        "mode": "single",
        "api": emulator_process.api,
        "out_dir": str(out_dir),
        "out": "video.mp4",
        "prompts": [PROMPTS[0]],
        "kill": None,
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.crash.child", json.dumps({**plan, "trace": str(trace)})],
            cwd=ROOT,
            env=_env(xdg),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for trace in (tmp_path / "trace-1", tmp_path / "trace-2")
    ]
    codes = sorted(proc.wait(timeout=50) for proc in children)
    outcomes = sorted(
        next(x for x in (tmp_path / name).read_text().splitlines() if x.startswith("RESULT"))
        for name in ("trace-1", "trace-2")
    )

    state = emulator_process.state(_client_id(xdg))
    assert len(state["renders"]) == 1, state["renders"]  # was 2: both generated, both rendered
    assert STARTING_CREDITS - state["available"] == GENERATION_COST  # was 200
    files, parts = _files(out_dir)
    assert files == {"video.mp4": state["renders"][0]["sha256"]} and parts == []
    assert _pending_now(xdg) == []  # was the loser's render, journaled for good
    assert codes == [0, 1] and outcomes[1] == "RESULT ok", outcomes
    assert outcomes[0].startswith("RESULT error FileExistsError"), outcomes
