"""The download's file writer: whole chunks on disk, writeback started window by window."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nemo_sdk._files import download as _download
from nemo_sdk._files.download import _Writer


async def test_writes_every_byte_and_starts_writeback_per_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    synced: list[int] = []
    monkeypatch.setattr(_Writer, "WINDOW", 1000)
    monkeypatch.setattr(
        os, "posix_fadvise", lambda fd, start, length, advice: advised.append((start, length))
    )
    monkeypatch.setattr(_download.os, "fsync", lambda fd: synced.append(fd))
    part = tmp_path / "file.part"
    part.write_bytes(b"x" * 300)  # a resumed download appends to what is there

    writer = _Writer(part, "ab")
    for _ in range(9):
        writer.write(b"y" * 400)
    await writer.finish()
    writer.close()

    assert part.read_bytes() == b"x" * 300 + b"y" * 3600
    assert advised == [(300, 1200), (1500, 1200), (2700, 1200)]
    assert len(synced) == 1


async def test_a_fresh_file_starts_at_zero(tmp_path: Path) -> None:
    part = tmp_path / "file.part"
    part.write_bytes(b"stale")
    writer = _Writer(part, "wb")
    writer.write(b"new")
    await writer.finish()
    writer.close()
    assert part.read_bytes() == b"new"
