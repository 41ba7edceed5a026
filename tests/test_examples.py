"""Every example runs against the embedded emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Each example runs in a fresh process as a user runs it, with two differences that
# change no step of it: the emulators it starts paint 160x90 clips at 12 fps and export
# on a 160x90 canvas (the length is theirs; the 720p clip and the 1080p export are the
# demo's, tested by test_fresh_install), and a client that polls renders from the
# environment polls every 50 ms.
SMALL_FRAMES = {
    "clip_width": 160,
    "clip_height": 90,
    "clip_fps": 12,
    "canvas_width": 160,
    "canvas_height": 90,
}
RUN_SMALL = f"""
import runpy, sys
from nemo_sdk.emulator import Emulator

_init = Emulator.__init__

def _small(self, *args, **knobs):
    _init(self, *args, **{{**knobs, **{SMALL_FRAMES!r}}})

Emulator.__init__ = _small
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_example(script: str, *args: str, cwd: Path | None, home: Path) -> CompletedProcess[str]:
    """``python examples/SCRIPT --emulator ARGS`` in a fresh process, small frames."""
    return subprocess.run(
        [sys.executable, "-c", RUN_SMALL, str(EXAMPLES / script), "--emulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "XDG_CONFIG_HOME": str(home),
            "HOME": str(home),
            "NEMO_RENDER_POLL_INTERVAL": "0.05",
        },
    )


# What each example must leave in its working directory (quickstart.py has its own test).
PRODUCTS = {
    "generate_and_export.py": ["video.mp4"],
    "custom_event_handler.py": ["boat.mp4"],
    "batch.py": [f"batch/batch_{i:03d}.mp4" for i in range(3)],
    "iterate.py": ["v1.mp4", "final.mp4"],
    "resume_render.py": ["render_*.mp4"],
}


def test_every_example_is_tested() -> None:
    assert sorted(PRODUCTS) == sorted(
        p.name for p in EXAMPLES.glob("*.py") if p.name != "quickstart.py"
    )


@pytest.mark.slow(seconds=5)
@pytest.mark.parametrize("script", sorted(PRODUCTS))
def test_example_runs_against_the_emulator(script: str, isolated_env: Path, tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    done = run_example(script, cwd=tmp_path, home=isolated_env)
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout.lower()
    for pattern in PRODUCTS[script]:
        (made,) = tmp_path.glob(pattern)
        with av.open(str(made)) as container:
            assert container.duration and len(container.streams.video) == 1
    assert not list(tmp_path.rglob("*.part")), "a partial download was left behind"


@pytest.mark.slow(seconds=5)
def test_quickstart_generates_and_exports_a_playable_mp4(
    isolated_env: Path, tmp_path: Path
) -> None:
    av = pytest.importorskip("av")
    out = tmp_path / "sunset.mp4"
    done = run_example("quickstart.py", "-o", str(out), cwd=None, home=isolated_env)
    assert done.returncode == 0, done.stderr
    assert "credits: 100 available, 0 frozen, 100 total" in done.stdout
    assert "workspace/claim?ct=clm_" in done.stdout
    assert (isolated_env / "nemovideo" / "client_id").exists()
    with av.open(str(out)) as container:
        assert container.duration is not None and container.duration / 1e6 == pytest.approx(
            5, abs=0.2
        )
        assert len(container.streams.video) == 1
