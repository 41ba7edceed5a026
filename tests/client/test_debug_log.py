"""``NEMO_LOG=debug`` shows the chat stream and the CDN download, each with its request id."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_sdk.emulator.threaded import emulator_in_thread

pytest.importorskip("av")

PROGRAM = """
import asyncio
from nemo_sdk import NemoClient, RenderSettings

async def main():
    async with NemoClient(render_settings=RenderSettings(poll_interval=0.05)) as nemo:
        await nemo.generate_and_export("a kite", "kite.mp4")

asyncio.run(main())
"""


@pytest.mark.slow
def test_nemo_log_debug_logs_the_chat_stream_and_the_download(tmp_path: Path) -> None:
    with emulator_in_thread(render_seconds=0.05, clip_width=64, clip_height=36) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
        env.update(NEMO_API_URL=emu.url, NEMO_LOG="debug", XDG_CONFIG_HOME=str(tmp_path / "x"))
        done = subprocess.run(
            [sys.executable, "-c", PROGRAM], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        cdn_host = emu.cdn_url.split("//", 1)[1]
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    chat = [line for line in lines if "POST /run_sse -> 200" in line]
    assert chat and "request id req_" in chat[0], done.stderr
    cdn = [line for line in lines if f"GET {cdn_host}/renders/" in line and "-> 200" in line]
    assert cdn, done.stderr
    assert any("POST /api/tasks/me/with-session/nemo_agent -> 200" in line and "request id"
               in line for line in lines)  # fmt: skip
    assert "nmv_usr_" not in done.stderr  # the token never
