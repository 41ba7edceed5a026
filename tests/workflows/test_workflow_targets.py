"""The workflows check ``out`` and the numbers before credits are spent, and journal
``out`` (absolute) with the render the moment it is exported."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import InvalidArgument, NemoClient
from nemo_sdk.emulator import Emulator
from nemo_sdk.progress import Progress


def nothing_sent(emulator: Emulator) -> bool:
    return not [r for r in emulator.requests if r.route != "token"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"out": "v" * 220 + ".mp4"},  # a legal name whose .part name is not
        {"poll_interval": 0},
        {"poll_interval": math.nan},
        {"render_timeout": math.nan},
        {"format": ""},
        {"quality": ""},
    ],
)
async def test_generate_and_export_refuses_before_spending(
    client: NemoClient, emulator: Emulator, tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    args: dict[str, Any] = {"out": tmp_path / "ok.mp4", **kwargs}
    if isinstance(args["out"], str):
        args["out"] = tmp_path / args["out"]
    with pytest.raises(InvalidArgument):
        await client.generate_and_export("a sunset", **args)
    assert nothing_sent(emulator)


async def test_batch_and_iterate_refuse_a_name_too_long(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    long = tmp_path / ("v" * 220 + ".mp4")
    with pytest.raises(InvalidArgument, match="too long"):
        await client.batch([client_item(long)], out_dir=tmp_path)
    with pytest.raises(InvalidArgument, match="too long"):
        await client.iterate("ses_x", "make it blue", export=True, out=long)
    assert nothing_sent(emulator)


def client_item(out: Path) -> Any:
    from nemo_sdk.workflows import BatchItem

    return BatchItem(prompt="a sunset", out=out)


async def test_out_is_journaled_absolute_when_the_render_is_exported(
    client: NemoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    journal = tmp_path / "journal.sqlite3"
    seen: list[str | None] = []

    def look(progress: Progress) -> None:
        if progress.phase == "rendering" and not seen:
            # What a crash now would leave for the next process to read.
            with sqlite3.connect(journal) as db:
                (row,) = db.execute("SELECT path FROM renders").fetchall()
            seen.append(row[0])

    result = await client.generate_and_export("a sunset", "clip.mp4", on_progress=look)
    assert seen == [str(tmp_path / "clip.mp4")]
    assert result.path.read_bytes()[4:8] == b"ftyp"
