"""A real MP4 named without an extension is accepted by its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import NemoClient, UnsupportedFileType
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.media import generate_clip

pytest.importorskip("av")


async def test_an_mp4_without_an_extension_is_uploaded_as_one(tmp_path: Path) -> None:
    clip = tmp_path / "holiday"
    generate_clip("beach", tmp_path / "holiday.mp4", duration=0.5, width=32, height=18, fps=4)
    (tmp_path / "holiday.mp4").rename(clip)
    notes = tmp_path / "notes"
    notes.write_text("not a video")
    async with Emulator() as emu, NemoClient(
        base_url=emu.url, client_id_path=tmp_path / "cid", journal_path=False
    ) as nemo:
        session = await nemo.sessions.create()
        (uploaded,) = await nemo.uploads.upload(session.id, [clip])  # was UnsupportedFileType
        assert uploaded.filename == "holiday.mp4"
        with pytest.raises(UnsupportedFileType):
            await nemo.uploads.upload(session.id, [notes])
