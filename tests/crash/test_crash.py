"""SIGKILL a job at a seeded point of every phase, recover in a new process, check the invariants.

See ``harness.py`` for the processes and the invariants. Twenty seeds, the phases
in turn (token, session, chat, export, poll, download, rename); a quarter are a
three-item batch, some recover with two processes at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_sdk.testing import emulator_available

from .harness import EmulatorProcess, known_bug, run_seed

pytestmark = [
    pytest.mark.crash,
    pytest.mark.slow,
    pytest.mark.skipif(not emulator_available(), reason="needs the emulator extra"),
]

SEEDS = range(20)


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as emu:
        yield emu


@pytest.mark.timeout(60)
@pytest.mark.parametrize("seed", SEEDS)
def test_kill_and_recover(emulator_process: EmulatorProcess, seed: int, tmp_path: Path) -> None:
    result = run_seed(emulator_process, seed, tmp_path / f"seed-{seed}")
    reason = known_bug(result)
    if reason is not None:
        pytest.xfail(f"{result.describe()} [known: {reason}]")
    assert not result.violations, result.describe()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "event",
    [
        pytest.param("os.link", id="before-link"),
        pytest.param("os.remove", id="after-link"),
    ],
)
def test_kill_around_the_rename(
    emulator_process: EmulatorProcess, event: str, tmp_path: Path
) -> None:
    """The rename phase pinned: killed as the .part is linked to the target, and just after."""
    plan = {"phase": "rename", "name": event, "delay": 0.0}
    result = run_seed(emulator_process, 0, tmp_path / "job", pinned=("single", False, plan))
    assert result.killed == "rename", result.describe()
    assert not result.violations, result.describe()
