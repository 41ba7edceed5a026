"""One workflow run per output path: two tasks with one ``out`` take turns (``.<name>.job.lock``).

Two processes are in ``tests/crash/test_twin.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nemo_sdk import NemoClient
from nemo_sdk._files import download as _download
from nemo_sdk.emulator import Emulator


def _renders(emulator: Emulator) -> list[str]:
    return list(emulator.renders)


def _videos(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix == ".mp4")


def _same_bytes(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


async def test_two_tasks_with_one_out_make_one_render(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "video.mp4"
    first, second = await asyncio.gather(
        client.generate_and_export("a red fox in snow", out),
        client.generate_and_export("a red fox in snow", out),
        return_exceptions=True,
    )
    outcomes = sorted(type(r).__name__ for r in (first, second))
    assert outcomes == ["FileExistsError", "GenerateResult"]  # was two GenerateResults
    assert len(_renders(emulator)) == 1 and len(emulator.store.sessions) == 1
    assert await client.renders.pending() == []
    assert not _download.job_lock_path(out).exists()  # the lock file goes with the run
    assert _videos(tmp_path) == ["video.mp4"]


async def test_a_run_resumes_the_render_an_earlier_run_left_journaled(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "video.mp4"
    # An earlier run that exported for ``out`` and died before its download.
    session = await client.sessions.create()
    await client.chat.send(session.id, "generate a blue boat at dawn")
    draft = (await client.state.get(session.id)).draft
    assert draft is not None
    job = await client.renders.export(session.id, draft, download_to=out)
    balance = (await client.credits.balance()).available

    result = await client.generate_and_export("a blue boat at dawn", out)

    assert result.render.id == job.id and result.session_id == session.id
    assert _renders(emulator) == [job.id]  # nothing generated or rendered again
    assert (await client.credits.balance()).available == balance
    assert result.credits_spent == 0
    assert await client.renders.pending() == []
    assert _same_bytes(out, Path(emulator.renders[job.id].path))


async def test_a_cancel_while_waiting_for_the_lock_is_a_cancel(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "video.mp4"
    async with _download.exclusive(_download.job_lock_path(out)):  # another run holds it
        task = asyncio.create_task(client.generate_and_export("a green hill", out))
        await asyncio.sleep(0.2)
        assert not task.done()
        assert emulator.store.sessions == {} and emulator.store.tokens == {}  # nothing sent
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not out.exists() and _renders(emulator) == []


async def test_a_waiting_run_goes_on_when_the_holder_failed(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "video.mp4"
    holder = _download.exclusive(_download.job_lock_path(out), remove=True)
    await holder.__aenter__()
    task = asyncio.create_task(client.generate_and_export("a green hill", out))
    await asyncio.sleep(0.1)
    assert not task.done()
    await holder.__aexit__(None, None, None)  # the first run failed: nothing at out
    result = await task
    assert result.path == out and out.is_file() and len(_renders(emulator)) == 1
