"""Exports, waits and the job journal (API.md, "POST /api/render/proxy/lambda" and after)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import pytest

from nemo_sdk import (
    DraftNotExportable,
    ExportBlocked,
    NemoClient,
    RenderFailed,
    RenderJob,
    RenderTimeout,
    UnknownRenderStatus,
)
from nemo_sdk.emulator import Emulator
from nemo_sdk.resources import renders as renders_module

from ..conftest import FAST_RETRY
from .conftest import ready_render, seed_draft

FAST = 0.02  # poll interval for tests


async def test_seed_timeline_renders_to_a_real_mp4(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    seen: list[RenderJob] = []
    job = await client.renders.export(session_id, seed_draft())
    assert job.id.startswith("render_") and job.status == "pending"
    done = await client.renders.wait(job.id, poll_interval=FAST, on_progress=seen.append)
    assert done.succeeded and done.output_url
    statuses = [j.status for j in seen]
    assert statuses[-1] == "completed" and "processing" in statuses
    progress = [j.progress for j in seen if j.progress is not None]
    assert progress == sorted(progress) and progress[-1] == 100
    path = await client.renders.download(job.id, tmp_path / "urban.mp4")
    with av.open(str(path)) as container:
        assert container.duration / av.time_base == pytest.approx(10.0, abs=0.1)
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
    cdn = [r for r in emulator.requests if r.origin == "cdn"]
    assert cdn and all("Authorization" not in r.headers for r in cdn)
    assert await client.renders.pending() == []


async def test_export_takes_the_latest_draft_by_default(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    emulator.set_draft(session_id, seed_draft())
    job = await client.renders.export(session_id, format="webm", quality="low")
    record = emulator.renders[job.id]
    assert record.draft == seed_draft() and record.format == "webm"


@pytest.mark.parametrize(
    "draft",
    [None, {}, {"t": []}, {"t": [{"tt": 0, "sg": []}, {"tt": 7, "sg": []}]}],
    ids=["no-draft", "empty", "no-tracks", "empty-tracks"],
)
async def test_unexportable_drafts_are_refused_before_sending(
    client: NemoClient, emulator: Emulator, session_id: str, draft: dict[str, Any] | None
) -> None:
    emulator.set_draft(session_id, draft)
    with pytest.raises(DraftNotExportable):
        await client.renders.export(session_id, draft)
    assert emulator.count("export") == 0
    assert await client.renders.pending() == []


async def test_anonymous_token_without_render_scope_is_blocked() -> None:
    async with (
        Emulator(anonymous_scopes=("read", "write", "upload")) as emu,
        NemoClient(base_url=emu.url, retry=FAST_RETRY) as nemo,
    ):
        session = await nemo.sessions.create()
        with pytest.raises(ExportBlocked) as info:
            await nemo.renders.export(session.id, seed_draft())
        assert info.value.status == 402
        assert "registered token" in str(info.value) and "NEMO_TOKEN" in str(info.value)
        assert emu.count("export") == 1  # never retried
        assert await nemo.renders.pending() == []


async def test_402_is_never_retried(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    emulator.faults.add("export", "402", times=None)
    with pytest.raises(ExportBlocked):
        await client.renders.export(session_id, seed_draft())
    assert emulator.count("export") == 1


async def test_duplicate_id_gets_a_new_id_once(
    client: NemoClient, emulator: Emulator, session_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken, _ = ready_render(emulator, session_id, size=10)
    ids = iter([taken])
    original = renders_module.new_render_id
    monkeypatch.setattr(renders_module, "new_render_id", lambda: next(ids, None) or original())
    job = await client.renders.export(session_id, seed_draft())
    assert job.id != taken and job.id.startswith("render_")
    assert emulator.count("export") == 2
    assert [p.render_id for p in await client.renders.pending()] == [job.id]


async def test_lost_export_answer_is_checked_before_a_second_submit(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    emulator.faults.add("export", "drop")  # the connection closes before the server acted
    job = await client.renders.export(session_id, seed_draft())
    assert emulator.count("export") == 2
    assert emulator.count("poll") == 1  # asked about the first id before re-submitting
    assert list(emulator.renders) == [job.id]


@pytest.mark.parametrize("shape", ["data", "top", "alternate"])
async def test_every_documented_poll_shape(shape: str) -> None:
    async with Emulator(poll_shape=shape) as emu, NemoClient(base_url=emu.url) as nemo:
        session = await nemo.sessions.create()
        rid, _ = ready_render(emu, session.id, size=10)
        for _ in range(2):
            job = await nemo.renders.get(rid)
            assert job.status == "completed" and job.id == rid
            assert job.output_url == emu.renders[rid].output_url


async def test_unknown_status_is_an_error_not_a_loop(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    rid, _ = ready_render(emulator, session_id, size=10)
    emulator.renders[rid].status = "exploded"
    with pytest.raises(UnknownRenderStatus) as info:
        await client.renders.wait(rid, poll_interval=FAST, timeout=5)
    assert info.value.status_value == "exploded"
    assert emulator.count("poll") == 1


async def test_failed_render_raises_with_the_server_error(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    draft = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"url": f"{emulator.url}/media/gone.mp4"}}]}]}
    job = await client.renders.export(session_id, draft)
    with pytest.raises(RenderFailed) as info:
        await client.renders.wait(job.id, poll_interval=FAST)
    assert info.value.render_id == job.id and "media not found" in (info.value.error or "")
    assert await client.renders.pending() == []


async def test_deadline_with_and_without_cancelling() -> None:
    async with Emulator(render_seconds=30) as emu, NemoClient(base_url=emu.url) as nemo:
        sid = (await nemo.sessions.create()).id
        job = await nemo.renders.export(sid, seed_draft())
        with pytest.raises(RenderTimeout) as info:
            await nemo.renders.wait(job.id, poll_interval=FAST, timeout=0.2)
        assert info.value.render_id == job.id and info.value.last_status in (
            "pending",
            "processing",
        )
        assert emu.count("cancel") == 0
        with pytest.raises(RenderTimeout):
            await nemo.renders.wait(job.id, poll_interval=FAST, timeout=0.1, cancel_on_timeout=True)
        assert emu.count("cancel") == 1
        with pytest.raises(RenderFailed, match="cancelled"):
            await nemo.renders.wait(job.id, poll_interval=FAST, timeout=2)


async def test_transient_errors_while_polling_are_polled_through(
    client: NemoClient, emulator: Emulator, session_id: str
) -> None:
    rid, _ = ready_render(emulator, session_id, size=10)
    emulator.faults.add("poll", "500", times=3)  # more than the transport's own retries
    emulator.faults.add("poll", "drop")
    emulator.faults.add("poll", "garbage")
    job = await client.renders.wait(rid, poll_interval=FAST, timeout=10)
    assert job.succeeded
    assert emulator.count("poll") == 6


async def test_cancel(client: NemoClient, emulator: Emulator, session_id: str) -> None:
    job = await client.renders.export(session_id, seed_draft())
    cancelled = await client.renders.cancel(job.id)
    assert cancelled.status == "failed" and "cancel" in (cancelled.error or "")
    with pytest.raises(RenderFailed):
        await client.renders.wait(job.id, poll_interval=FAST)
    assert await client.renders.pending() == []


async def test_killed_waiter_is_resumed_from_the_journal_by_a_new_client(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as first:
        session = await first.sessions.create()
        job = await first.renders.export(session.id, seed_draft())
        waiter = asyncio.create_task(first.renders.wait(job.id, poll_interval=FAST))
        await asyncio.sleep(0.1)
        waiter.cancel()  # the program is killed mid-wait
        with pytest.raises(asyncio.CancelledError):
            await waiter
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as second:
        (pending,) = await second.renders.pending()
        assert pending.render_id == job.id and pending.session_id == session.id
        done = await second.renders.wait(pending.render_id, poll_interval=FAST)
        assert done.succeeded
        path = await second.renders.download(pending.render_id, tmp_path / "resumed.mp4")
        assert path.stat().st_size > 1000
        assert await second.renders.pending() == []


async def test_journal_location_and_switch(
    emulator: Emulator, tmp_path: Path, isolated_env: Path
) -> None:
    own = tmp_path / "jobs" / "journal.db"
    async with (
        NemoClient(base_url=emulator.url, journal_path=own) as custom,
        NemoClient(base_url=emulator.url, journal_path=False) as off,
    ):
        sid = (await custom.sessions.create()).id
        await custom.renders.export(sid, seed_draft())
        assert len(await custom.renders.pending()) == 1 and own.exists()
        assert own.stat().st_mode & 0o077 == 0
        sid_off = (await off.sessions.create()).id
        await off.renders.export(sid_off, seed_draft())
        assert await off.renders.pending() == [] and off.renders.journal is None
    assert not (isolated_env / "nemovideo" / "renders.sqlite3").exists()
