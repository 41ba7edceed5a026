"""Fixtures for uploads, exports and downloads: small media files, a session, ready renders."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nemo_sdk import NemoClient
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.media import generate_clip
from nemo_sdk.emulator.routes_render import RenderRecord

# The seed's "Urban Dreams" timeline (API.md): video "city timelapse" 0-10 s,
# BGM "Lo-fi" 0-10 s at 35 %, title "Urban Dreams" 0-3 s; small so it renders fast.
SEED_DRAFT: dict[str, Any] = {
    "m": {"title": "Urban Dreams", "width": 320, "height": 180},
    "t": [
        {"tt": 0, "sg": [{"d": 10_000, "m": {"name": "city timelapse"}}]},
        {"tt": 1, "sg": [{"d": 10_000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
        {"tt": 7, "sg": [{"d": 3_000, "m": {"text": "Urban Dreams"}}]},
    ],
}


def seed_draft() -> dict[str, Any]:
    return copy.deepcopy(SEED_DRAFT)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real clip, a real image, and impostors."""
    folder = tmp_path_factory.mktemp("media")
    generate_clip("beach at dawn", folder / "clip.mp4", duration=1.0, width=160, height=90, fps=12)
    Image.new("RGB", (64, 36), (200, 80, 20)).save(folder / "still.png")
    (folder / "notes.mp4").write_text("this is a text file, not a video\n")
    (folder / "notes.txt").write_text("plain text\n")
    return {p.stem if p.suffix != ".txt" else "txt": p for p in folder.iterdir()}


@pytest.fixture
async def session_id(client: NemoClient) -> str:
    return (await client.sessions.create()).id


def ready_render(emu: Emulator, session_id: str, size: int = 3 * 1024 * 1024) -> tuple[str, bytes]:
    """A completed render: an MP4 signature and random bytes (downloads sniff no further)."""
    rid = f"render_test{len(emu.renders)}_{int(time.time() * 1e6)}"
    folder = emu.data_dir / "renders"
    folder.mkdir(parents=True, exist_ok=True)
    # An MP4 box header, then noise: the download checks that a file is media.
    body = (b"\x00\x00\x00\x18ftypisom" + os.urandom(size))[:size]
    path = folder / f"{rid}.mp4"
    path.write_bytes(body)
    session = emu.store.sessions[session_id]
    emu.renders[rid] = RenderRecord(
        rid, session.user_id, session_id, seed_draft(), status="completed", progress=100.0,
        path=path, output_url=f"{emu.cdn_url}/renders/{path.name}", completed_at=time.time(),
    )  # fmt: skip
    return rid, body


def api_requests(emu: Emulator, route: str) -> int:
    return emu.count(route)
