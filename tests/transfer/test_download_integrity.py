"""What lands at the target is the render, byte for byte: one writer per partial file,
no resume a server cannot vouch for, and no empty or non-media body taken for the video."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from nemo_sdk import DownloadError, NemoClient
from nemo_sdk._files.download import partial_path
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import serving

from ..conftest import FAST_RETRY
from .conftest import ready_render

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def cdn_headers(emu: Emulator) -> list[dict[str, str]]:
    return [dict(r.headers) for r in emu.requests if r.origin == "cdn" and r.method == "GET"]


# ---------------------------------------------------------------- one writer per .part


async def test_two_tasks_downloading_one_render_to_one_target(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id, size=6 * 1024 * 1024)
    target = tmp_path / "out" / "out.mp4"

    async def slowly(done: int, total: int | None) -> None:
        await asyncio.sleep(0.002)  # keep both downloads in flight at once

    first, second = await asyncio.gather(
        client.renders.download(rid, target, on_progress=slowly),
        client.renders.download(rid, target, on_progress=slowly),
    )
    assert first == second == target
    assert target.read_bytes() == body
    assert leftovers(target.parent) == ["out.mp4"]
    assert len(cdn_headers(emulator)) == 1  # the second waited, it did not fetch again


_PROCESS = """
import asyncio, sys
from pathlib import Path
from nemo_sdk import NemoClient

async def main() -> None:
    base, token, rid, target, journal = sys.argv[1:6]
    started = False

    async def slowly(done, total):
        nonlocal started
        if not started and sys.argv[6:] == ["pause"]:
            # Hold the partial file mid-download until the test says go on.
            started = True
            print("started", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async with NemoClient(base_url=base, token=token, journal_path=journal) as nemo:
        path = await nemo.renders.download(rid, Path(target), on_progress=slowly)
    print(path, flush=True)

asyncio.run(main())
"""


async def test_two_processes_downloading_one_render_to_one_target(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY, journal_path=False) as nemo:
        token = (await nemo.auth.anonymous_token()).token
        sid = (await nemo.sessions.create()).id
    rid, body = ready_render(emulator, sid, size=6 * 1024 * 1024)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "video.mp4"
    args = [emulator.url, token, rid, str(target), str(tmp_path / "journal.sqlite3")]

    async def start(*extra: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PROCESS, *args, *extra, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    first = await start("pause")
    assert first.stdout is not None and first.stdin is not None
    assert await asyncio.wait_for(first.stdout.readline(), 30) == b"started\n"
    second = await start()  # a queue redelivering the job while the first still writes
    for _ in range(3000):  # until the second asked for the render: it goes for the file next
        if emulator.count("poll") >= 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    first.stdin.write(b"go\n")
    await first.stdin.drain()
    for proc in (first, second):
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stderr.decode()[-2000:]
        assert stdout.decode().split()[-1] == str(target)
    assert target.read_bytes() == body  # never 2x the render, never a mix
    assert leftovers(out) == ["video.mp4"]


# ---------------------------------------------------------------- resume only the same file


async def test_a_stale_part_without_a_validator_is_fetched_again(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    target = tmp_path / "out" / "out.mp4"
    target.parent.mkdir()
    # Left by an older version, or by a download of another file under the same name.
    partial_path(target, rid).write_bytes(b"\x00" * 1000)
    path = await client.renders.download(rid, target)
    assert path.read_bytes() == body
    (get,) = cdn_headers(emulator)
    assert "Range" not in get


async def test_a_part_of_a_file_that_changed_since_is_fetched_again(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    target = tmp_path / "out" / "out.mp4"
    target.parent.mkdir()
    part = partial_path(target, rid)
    part.write_bytes(b"\x00" * 1000)  # bytes of an earlier version of the file
    part.with_name(part.name[: -len(".part")] + ".meta").write_text(
        json.dumps({"if_range": '"0-1"'})
    )
    path = await client.renders.download(rid, target)
    assert path.read_bytes() == body
    (get,) = cdn_headers(emulator)
    assert get["If-Range"] == '"0-1"' and get["Range"] == "bytes=1000-"  # asked; refused: 200
    assert leftovers(target.parent) == ["out.mp4"]


async def test_an_interrupted_download_resumes_with_if_range(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id)
    emulator.faults.add("cdn", "truncate")
    path = await client.renders.download(rid, tmp_path / "out" / "out.mp4")
    assert path.read_bytes() == body
    _, second = cdn_headers(emulator)
    assert second["Range"] == f"bytes={len(body) // 2}-"
    assert second["If-Range"].startswith('"')  # the ETag the first answer carried
    assert leftovers(path.parent) == ["out.mp4"]


async def test_the_emulator_honours_if_range(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    rid, body = ready_render(emulator, session_id, size=4096)
    url = emulator.renders[rid].output_url
    assert url is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            etag, modified = resp.headers["ETag"], resp.headers["Last-Modified"]
        for validator, status in ((etag, 206), (modified, 206), ('"other"', 200)):
            headers = {"Range": "bytes=100-", "If-Range": validator}
            async with http.get(url, headers=headers) as resp:
                assert resp.status == status, validator
                assert await resp.read() == (body[100:] if status == 206 else body)
        emulator.faults.add("cdn", "truncate")  # a faulty answer names the file too
        async with http.get(url) as resp:
            assert resp.headers["ETag"] == etag
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()


# ---------------------------------------------------------------- no body taken for the video


@pytest.fixture
async def hostile_cdn() -> AsyncIterator[tuple[str, list[Handler]]]:
    """A file host on 127.0.0.1 whose answer each test chooses."""
    handlers: list[Handler] = []

    async def serve(request: web.Request) -> web.StreamResponse:
        return await handlers[0](request)

    async with serving(serve) as url:
        yield url, handlers


async def _close_delimited(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    resp.force_close()  # HTTP/1.0 style: no length, the body ends when the connection does
    await resp.prepare(request)
    await resp.write(b"<partial")
    await resp.write_eof()
    return resp


async def _empty(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"", content_type="application/octet-stream")


async def _few_bytes(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"\x00\x01\x02oops", content_type="application/octet-stream")


@pytest.mark.parametrize("answer", [_close_delimited, _empty, _few_bytes])
async def test_a_body_that_is_not_media_never_becomes_the_video(
    client: NemoClient,
    emulator: Emulator,
    session_id: str,
    tmp_path: Path,
    hostile_cdn: tuple[str, list[Handler]],
    answer: Handler,
) -> None:
    url, handlers = hostile_cdn
    handlers.append(answer)
    rid, body = ready_render(emulator, session_id)
    await client.renders.journal.record(rid, session_id)  # type: ignore[union-attr]
    emulator.renders[rid].output_url = f"{url}/{rid}.mp4"
    emulator.faults.add("download", "500", times=None)  # no fallback to save the day
    target = tmp_path / "out" / "video.mp4"
    with pytest.raises(DownloadError, match=r"not a video|output URL"):
        await client.renders.download(rid, target)
    assert not target.exists()
    assert rid in {p.render_id for p in await client.renders.pending()}  # kept, resumable
    # And with the fallback back, the render itself arrives, whole.
    emulator.faults.clear()
    path = await client.renders.download(rid, target)
    assert path.read_bytes() == body
    assert leftovers(target.parent) == ["video.mp4"]


@pytest.mark.parametrize("answer", [_close_delimited, _empty, _few_bytes])
async def test_a_body_that_is_not_media_never_reaches_a_stream(
    client: NemoClient,
    emulator: Emulator,
    session_id: str,
    hostile_cdn: tuple[str, list[Handler]],
    answer: Handler,
) -> None:
    url, handlers = hostile_cdn
    handlers.append(answer)
    rid, body = ready_render(emulator, session_id)
    emulator.renders[rid].output_url = f"{url}/{rid}.mp4"
    emulator.faults.add("download", "500", times=None)  # no fallback to save the day
    sink = io.BytesIO()
    with pytest.raises(DownloadError, match=r"not a video|output URL"):
        await client.renders.download(rid, sink)
    assert sink.getvalue() == b""  # nothing of the answer was written
    emulator.faults.clear()
    await client.renders.download(rid, sink)
    assert sink.getvalue() == body
