"""The README's main-job command, as a new user runs it: a fresh copy, a fresh venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _copy_checkout(dest: Path) -> None:
    """The files a clone would have: git's tracked files when there is a git checkout."""
    if (REPO / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        for name in filter(None, listed):
            source = REPO / os.fsdecode(name)
            if source.is_file():
                target = dest / os.fsdecode(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    else:
        ignore = shutil.ignore_patterns(".venv", "*.pyc", "__pycache__", "site", ".*_cache")
        shutil.copytree(REPO, dest, ignore=ignore, dirs_exist_ok=True)


@pytest.mark.slow(seconds=60)  # a new venv and a pip install
@pytest.mark.timeout(900)
def test_make_demo_from_a_fresh_copy_makes_a_playable_mp4(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    clone = tmp_path / "clone"
    _copy_checkout(clone)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),  # keeps pip's download cache
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHON": sys.executable,  # the python3 the suite runs on
    }
    done = subprocess.run(
        ["make", "demo", f"PYTHON={sys.executable}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (clone / ".venv" / "bin" / "python").exists()  # its own venv, not ours
    with av.open(str(clone / "video.mp4")) as container:
        assert container.duration is not None and container.duration > 0
        assert len(container.streams.video) == 1
    assert (tmp_path / "config" / "nemovideo" / "client_id").exists()
