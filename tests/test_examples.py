"""Every example runs against the embedded emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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


@pytest.mark.slow(seconds=15)
@pytest.mark.parametrize("script", sorted(PRODUCTS))
def test_example_runs_against_the_emulator(script: str, isolated_env: Path, tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--emulator"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "XDG_CONFIG_HOME": str(isolated_env),
            "HOME": str(isolated_env),
        },
    )
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout.lower()
    for pattern in PRODUCTS[script]:
        (made,) = tmp_path.glob(pattern)
        with av.open(str(made)) as container:
            assert container.duration and len(container.streams.video) == 1
    assert not list(tmp_path.rglob("*.part")), "a partial download was left behind"


@pytest.mark.slow(seconds=15)
def test_quickstart_generates_and_exports_a_playable_mp4(
    isolated_env: Path, tmp_path: Path
) -> None:
    av = pytest.importorskip("av")
    out = tmp_path / "sunset.mp4"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "--emulator", "-o", str(out)],
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
    assert "credits: 100 available, 0 frozen, 100 total" in done.stdout
    assert "workspace/claim?ct=clm_" in done.stdout
    assert (isolated_env / "nemovideo" / "client_id").exists()
    with av.open(str(out)) as container:
        assert container.duration is not None and container.duration / 1e6 == pytest.approx(
            5, abs=0.2
        )
        assert len(container.streams.video) == 1
