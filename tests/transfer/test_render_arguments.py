"""Bad numbers and names get ``InvalidArgument`` before a request; bad answers get
``InvalidResponseError``; an accepted export is never submitted twice."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import InvalidArgument, InvalidResponseError, NemoClient, UnsafeFilename
from nemo_sdk.emulator import Emulator

from .conftest import ready_render, seed_draft


async def test_an_export_answered_with_an_undocumented_status_is_not_submitted_again(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    emulator.knobs = dataclasses.replace(emulator.knobs, export_status="queued")
    job = await client.renders.export(session_id, seed_draft())
    assert emulator.count("export") == 1 and list(emulator.renders) == [job.id]
    assert [p.render_id for p in await client.renders.pending()] == [job.id]
    assert job.raw["data"]["status"] == "queued"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"poll_interval": -1},
        {"poll_interval": 0},
        {"poll_interval": math.nan},
        {"poll_interval": math.inf},
        {"poll_interval": "1"},
        {"timeout": math.nan},
        {"timeout": -5},
        {"timeout": True},
    ],
)
async def test_wait_refuses_bad_numbers_before_polling(
    client: NemoClient, emulator: Emulator, session_id: str, kwargs: dict[str, Any]
) -> None:
    rid, _ = ready_render(emulator, session_id)
    with pytest.raises(InvalidArgument):
        await client.renders.wait(rid, **kwargs)
    assert emulator.count("poll") == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fps": math.nan},
        {"fps": math.inf},
        {"fps": -30},
        {"width": -1920},
        {"width": 0},
        {"width": 12.5},
        {"height": "1080"},
        {"height": True},
        {"format": ""},
        {"format": None},
        {"quality": " "},
    ],
)
async def test_export_refuses_bad_output_before_sending(
    client: NemoClient, emulator: Emulator, session_id: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidArgument):
        await client.renders.export(session_id, seed_draft(), **kwargs)
    assert emulator.count("export") == 0 and emulator.count("state") == 0
    assert await client.renders.pending() == []


async def test_export_sends_good_numbers(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    job = await client.renders.export(session_id, seed_draft(), width=320, height=180, fps=24.0)
    record = emulator.renders[job.id]
    assert (record.width, record.height, record.fps) == (320, 180, 24)


async def test_a_huge_progress_is_an_invalid_response(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    rid, _ = ready_render(emulator, session_id)
    body = {"success": True, "data": {"id": rid, "status": "processing", "progress": 10**400}}
    emulator.faults.add("poll", "garbage", body=body)
    with pytest.raises(InvalidResponseError, match="progress"):
        await client.renders.get(rid)


async def test_a_name_too_long_for_its_partial_file_is_refused_before_anything_is_sent(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, _ = ready_render(emulator, session_id)
    target = tmp_path / ("v" * 220 + ".mp4")  # a legal name; its .part name is not
    with pytest.raises(InvalidArgument, match="too long"):
        await client.renders.download(rid, target)
    with pytest.raises(InvalidArgument, match="too long"):
        await client.renders.export(session_id, seed_draft(), download_to=target)
    assert emulator.count("poll") == 0 and emulator.count("export") == 0
    assert not any(name.startswith(".v") for name in os.listdir(tmp_path))


async def test_an_empty_download_path_is_refused(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    rid, _ = ready_render(emulator, session_id)
    with pytest.raises(InvalidArgument, match="empty"):
        await client.renders.download(rid, "")
    assert emulator.count("poll") == 0
    assert not (tmp_path / f"{rid}.mp4").exists()


async def test_a_server_name_too_long_for_its_partial_file_is_refused(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, _ = ready_render(emulator, session_id)
    name = "v" * 230 + ".mp4"  # under 255 bytes itself; its .part name is not
    emulator.knobs = dataclasses.replace(
        emulator.knobs, content_disposition=f'attachment; filename="{name}"'
    )
    folder = tmp_path / "downloads"
    folder.mkdir()
    with pytest.raises(UnsafeFilename, match="too long"):
        await client.renders.download(rid, folder)
    assert os.listdir(folder) == []


@pytest.mark.parametrize("progress", ["Infinity", "1e400", float("nan")])
def test_a_progress_that_is_no_percentage_is_an_invalid_response(progress: object) -> None:
    from nemo_sdk.models.render import RenderJob

    with pytest.raises(InvalidResponseError, match="progress"):
        RenderJob.from_api({"data": {"status": "processing", "progress": progress}}, render_id="r")
