"""Downloads: atomic placement, Range resume, the CDN without the token, the fallback route."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nemo_sdk import DownloadError, NemoClient, RenderSettings
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY
from .conftest import ready_render, seed_draft


def cdn_requests(emu: Emulator) -> list[dict[str, str]]:
    return [dict(r.headers) for r in emu.requests if r.origin == "cdn"]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_download_from_the_cdn_never_sends_the_token(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    seen: list[tuple[int, int | None]] = []
    path = await client.renders.download(
        rid, out_dir / "out.mp4", on_progress=lambda n, total: seen.append((n, total))
    )
    assert path.read_bytes() == body
    assert seen[-1] == (len(body), len(body))
    (cdn,) = cdn_requests(emulator)
    assert "Authorization" not in cdn and not any(k.startswith("X-Skill") for k in cdn)
    assert emulator.count("download") == 0
    assert leftovers(out_dir) == ["out.mp4"]


@pytest.mark.parametrize("kind", ["truncate", "drop"])
async def test_interrupted_download_resumes_with_range(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path, kind: str
) -> None:
    rid, body = ready_render(emulator, session_id)
    emulator.faults.add("cdn", kind)
    path = await client.renders.download(rid, out_dir / "out.mp4")
    assert path.read_bytes() == body  # byte-identical
    first, second = cdn_requests(emulator)
    assert "Range" not in first
    assert second["Range"].startswith("bytes=") and second["Range"] != "bytes=0-"
    assert leftovers(out_dir) == ["out.mp4"]


async def test_fallback_route_with_bearer_when_the_cdn_fails(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    emulator.faults.add("cdn", "500", times=None)
    path = await client.renders.download(rid, out_dir / "out.mp4")
    assert path.read_bytes() == body
    assert emulator.count("download") == 1
    fallback = next(r for r in emulator.requests if r.route == "download")
    assert fallback.headers["Authorization"].startswith("Bearer ")
    assert all("Authorization" not in h for h in cdn_requests(emulator))


async def test_fallback_resumes_what_the_cdn_left(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    emulator.faults.add("cdn", "truncate")

    def break_the_cdn(done: int, total: int | None) -> None:
        if not emulator.faults.pending:  # the truncation is under way: the CDN goes down
            emulator.faults.add("cdn", "500", times=None)

    path = await client.renders.download(rid, out_dir / "out.mp4", on_progress=break_the_cdn)
    assert path.read_bytes() == body
    fallback = next(r for r in emulator.requests if r.route == "download")
    assert fallback.headers["Range"] == f"bytes={len(body) // 2}-"


async def test_non_http_output_url_is_refused(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    emulator.renders[rid].output_url = "file:///etc/passwd"
    path = await client.renders.download(rid, out_dir / "out.mp4")
    assert path.read_bytes() == body
    assert cdn_requests(emulator) == [] and emulator.count("download") == 1


async def test_both_sources_failing_is_a_download_error(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, _ = ready_render(emulator, session_id)
    emulator.faults.add("cdn", "500", times=None)
    emulator.faults.add("download", "500", times=None)
    with pytest.raises(DownloadError, match="fallback route"):
        await client.renders.download(rid, out_dir / "out.mp4")
    assert not (out_dir / "out.mp4").exists()
    assert [p.render_id for p in await client.renders.pending()] == []  # not journaled here


async def test_existing_file_is_kept_unless_overwrite(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    target = out_dir / "out.mp4"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        await client.renders.download(rid, target)
    assert target.read_bytes() == b"mine" and emulator.count("poll") == 0
    await client.renders.download(rid, target, overwrite=True)
    assert target.read_bytes() == body


async def test_cancelled_download_leaves_nothing_at_the_target_and_resumes(
    client: NemoClient, emulator: Emulator, session_id: str, out_dir: Path
) -> None:
    rid, body = ready_render(emulator, session_id, size=8 * 1024 * 1024)
    target = out_dir / "out.mp4"
    started = asyncio.Event()

    async def stall(done: int, total: int | None) -> None:
        started.set()
        await asyncio.Event().wait()  # park mid-download until the test cancels it

    task = asyncio.create_task(client.renders.download(rid, target, on_progress=stall))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()  # Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not target.exists()
    path = await client.renders.download(rid, target)
    assert path.read_bytes() == body
    assert cdn_requests(emulator)[-1]["Range"].startswith("bytes=")
    assert leftovers(out_dir) == ["out.mp4"]


async def test_download_waits_for_an_unfinished_render(emulator: Emulator, out_dir: Path) -> None:
    async with NemoClient(
        base_url=emulator.url, retry=FAST_RETRY, render_settings=RenderSettings(poll_interval=0.02)
    ) as nemo:
        sid = (await nemo.sessions.create()).id
        job = await nemo.renders.export(sid, seed_draft())
        path = await nemo.renders.download(job.id, out_dir / "out.mp4")
        assert path.stat().st_size > 1000
