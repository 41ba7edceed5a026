"""Ctrl-C in the middle of a download: nothing at the target, the render kept, the way back printed.

The command runs in a real subprocess that gets a real SIGINT while the
emulator holds the download.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from nemo_sdk.emulator import Emulator

from .conftest import Nemo, doc, ok

HOLD = 1.0  # seconds the emulator sits on each download request


def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def interrupt_during_download(emu: Emulator, *args: str) -> tuple[int, str, str]:
    """Run ``nemo ARGS`` in a subprocess and Ctrl-C it once the emulator holds the download."""
    emu.faults.add("cdn", "slow", delay=HOLD)
    emu.faults.add("download", "slow", delay=HOLD)
    command = [sys.executable, "-m", "nemo_sdk.cli", "--api-url", emu.url]
    command += ["--poll-interval", "0.01", *args]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        wait_for(lambda: emu.count("cdn", "cdn") >= 1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, " ".join(err.split())  # rich may wrap a narrow stderr


def check_resumable(nemo: Nemo, target: Path, err: str) -> dict[str, str]:
    """No file at the target, the render in the journal, and its resume command printed."""
    assert not target.exists()
    (pending,) = doc(ok(nemo("--json", "renders", "pending")))["pending"]
    assert pending["path"] == str(target)
    assert f"renders download {pending['render_id']} {target}" in err
    assert f"nothing was written to {target}" in err
    assert "Traceback" not in err
    return pending  # type: ignore[no-any-return]


@pytest.mark.slow
def test_ctrl_c_during_export_download_leaves_nothing_and_says_how_to_resume(
    nemo: Nemo, nemo_emulator: Emulator, session_with_video: str, tmp_path: Path
) -> None:
    target = tmp_path / "video.mp4"
    code, out, err = interrupt_during_download(
        nemo_emulator, "export", session_with_video, "-o", str(target)
    )
    assert code == 130, err
    assert out == ""
    pending = check_resumable(nemo, target, err)
    assert pending["session_id"] == session_with_video

    # The printed command does resume it.
    ok(nemo("renders", "download", pending["render_id"], str(target)))
    with av.open(str(target)) as container:
        assert container.streams.video
    assert doc(ok(nemo("--json", "renders", "pending"))) == {"pending": []}


@pytest.mark.slow
def test_ctrl_c_during_generate_json(nemo: Nemo, nemo_emulator: Emulator, tmp_path: Path) -> None:
    target = tmp_path / "gen.mp4"
    ok(nemo("credits"))  # the subprocess reuses this anonymous token
    code, out, err = interrupt_during_download(
        nemo_emulator, "--json", "generate", "a windmill", "-o", str(target)
    )
    assert code == 130, err
    error = json.loads(out)["error"]
    pending = check_resumable(nemo, target, err)
    assert error["exit_code"] == 130
    assert error["render_id"] == pending["render_id"]
    assert error["resume"].endswith(f"renders download {pending['render_id']} {target}")
