"""Every example runs against the embedded emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs_against_the_emulator(script: str, isolated_env: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--emulator"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "XDG_CONFIG_HOME": str(isolated_env),
            "HOME": str(isolated_env),
        },
    )
    assert done.returncode == 0, done.stderr
    assert "Ready!" in done.stdout or "done" in done.stdout.lower()


def test_quickstart_prints_credits_and_an_empty_timeline(isolated_env: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "--emulator"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "XDG_CONFIG_HOME": str(isolated_env),
            "HOME": str(isolated_env),
        },
    )
    assert "credits: 100 available, 0 frozen, 100 total" in done.stdout
    assert "workspace/claim?ct=clm_" in done.stdout
    assert (isolated_env / "nemovideo" / "client_id").exists()
