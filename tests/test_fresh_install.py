"""The README's main-job command, ``make demo``: what its recipe makes.

The fresh install itself (a fresh clone, a new venv with only the demo's extras, then
``make demo``) is what ``.ci/run`` does first on its fresh clone: CI proves that the
checkout's tracked files and the ``emulator`` and ``cli`` extras are enough. Here the
Makefile's own demo recipe runs with this environment's ``nemo`` (its install step
assumed done, ``make -o``), in an empty directory: the video it leaves must play and the
client id must be kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CI_RUN = REPO / ".ci" / "run"


def test_ci_makes_the_demo_from_its_fresh_clone_before_anything_else_is_installed() -> None:
    """``.ci/run`` runs ``make demo`` before ``make test`` installs the dev extra."""
    steps = [
        line.strip()
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("make ", "NEMO_REQUIRE"))
    ]
    assert steps[0] == "make demo", steps
    assert any(step.endswith("make test") for step in steps[1:]), steps


@pytest.mark.slow(seconds=15)  # a 5 s 720p clip, exported at 1080p
@pytest.mark.timeout(300)
def test_make_demo_makes_a_playable_mp4(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        # -o: the venv and its install are this environment's (.ci/run does the fresh one).
        ["make", "-f", str(REPO / "Makefile"), "demo", "-o", ".venv/.installed-demo",
         f"BIN={Path(sys.executable).parent}"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with av.open(str(work / "video.mp4")) as container:
        assert container.duration is not None and container.duration > 0
        assert len(container.streams.video) == 1
    assert (tmp_path / "config" / "nemovideo" / "client_id").exists()
