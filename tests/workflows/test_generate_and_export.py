"""``nemo.generate_and_export``: the main job in one await, against the emulator."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import av
import pytest

from nemo_sdk import (
    DraftNotExportable,
    EventHandler,
    InsufficientCreditsError,
    InvalidArgument,
    NemoClient,
    TextDelta,
)
from nemo_sdk.emulator import Emulator
from nemo_sdk.progress import Progress


async def test_generates_exports_and_downloads_a_playable_mp4(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "sunset.mp4"
    result = await client.generate_and_export("a cinematic sunset over the ocean", out)

    assert result.path == out and out.is_file()
    with av.open(str(out)) as container:
        assert container.duration is not None and container.duration > 0
        assert len(container.streams.video) == 1
    assert result.render.id.startswith("render_") and result.render.succeeded
    assert result.session_id in emulator.store.sessions
    assert result.draft.is_exportable
    assert result.credits_spent == 100  # the emulator's generation cost
    assert "sunset" in result.reply.text
    assert await client.renders.pending() == []  # downloaded: the journal let it go


async def test_progress_reports_every_phase_in_order_with_the_ids(
    client: NemoClient, tmp_path: Path
) -> None:
    seen: list[Progress] = []
    result = await client.generate_and_export(
        "a forest", tmp_path / "f.mp4", on_progress=seen.append
    )

    phases = [p.phase for p in seen]
    order = ["connecting", "generating", "rendering", "downloading", "done"]
    assert [phase for phase in order if phase in phases] == order
    assert phases == sorted(phases, key=order.index)  # never goes back
    first_generating = next(p for p in seen if p.phase == "generating")
    assert first_generating.session_id == result.session_id
    first_rendering = next(p for p in seen if p.phase == "rendering")
    assert first_rendering.render_id == result.render.id
    assert seen[-1].percent == 100.0
    downloads = [p.percent for p in seen if p.phase == "downloading" and p.percent is not None]
    assert downloads == sorted(downloads) and downloads[-1] == pytest.approx(100.0)


class Recorder(EventHandler):
    def __init__(self) -> None:
        self.text: list[str] = []
        self.phases: list[str] = []

    async def on_text(self, event: TextDelta) -> None:
        self.text.append(event.text)

    async def on_progress(self, progress: Progress) -> None:
        self.phases.append(progress.phase)


async def test_a_handler_hears_chat_events_and_progress(client: NemoClient, tmp_path: Path) -> None:
    recorder = Recorder()
    await client.generate_and_export("a desert", tmp_path / "d.mp4", handler=recorder)
    assert "desert" in "".join(recorder.text)
    assert recorder.phases[0] == "connecting" and recorder.phases[-1] == "done"


async def test_async_progress_callbacks_are_awaited(client: NemoClient, tmp_path: Path) -> None:
    seen: list[str] = []

    async def note(progress: Progress) -> None:
        await asyncio.sleep(0)
        seen.append(progress.phase)

    await client.generate_and_export("a lake", tmp_path / "l.mp4", on_progress=note)
    assert seen[-1] == "done"


async def test_aspect_is_asked_of_the_agent_and_honoured(
    client: NemoClient, tmp_path: Path
) -> None:
    result = await client.generate_and_export("a tower", tmp_path / "t.mp4", aspect="9:16")
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        assert stream.height > stream.width


async def test_works_in_an_existing_session(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    session = await client.sessions.create()
    result = await client.generate_and_export("a river", tmp_path / "r.mp4", session=session)
    assert result.session_id == session.id
    assert emulator.count("session") == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"prompt": ""}, InvalidArgument),
        ({"prompt": "   "}, InvalidArgument),
        ({"prompt": "x", "aspect": "wide"}, InvalidArgument),
        ({"prompt": "x", "aspect": "0:1"}, InvalidArgument),
        ({"prompt": "x", "max_turns": 0}, InvalidArgument),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    client: NemoClient, emulator: Emulator, tmp_path: Path, kwargs: dict[str, object], error: type
) -> None:
    with pytest.raises(error):
        await client.generate_and_export(out=tmp_path / "x.mp4", **kwargs)  # type: ignore[arg-type]
    assert emulator.requests == []


async def test_an_existing_file_is_not_overwritten(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "mine.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        await client.generate_and_export("a cat", out)
    assert out.read_bytes() == b"precious" and emulator.requests == []
    await client.generate_and_export("a cat", out, overwrite=True)
    assert out.stat().st_size > 1000


async def test_a_missing_output_directory_is_refused_before_sending(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await client.generate_and_export("a cat", tmp_path / "nope" / "x.mp4")
    assert emulator.requests == []


async def test_an_agent_that_makes_no_timeline_is_asked_to_go_ahead_then_reported(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    # "describe" carries no instruction the rule-based agent acts on, and max_turns=1
    # allows no follow-up: the agent's question comes back in the error.
    with pytest.raises(DraftNotExportable, match="made no timeline in 1 turn"):
        await client.generate_and_export("create nothing at all", tmp_path / "n.mp4", max_turns=1)
    assert not (tmp_path / "n.mp4").exists()
    # With a second turn the "go ahead" message makes the agent generate.
    result = await client.generate_and_export("create nothing at all", tmp_path / "n.mp4")
    assert result.path.exists()
    assert emulator.count("chat") == 3


async def test_out_of_credits_is_a_typed_error_with_the_bind_link(tmp_path: Path) -> None:
    async with (
        Emulator(starting_credits=10, render_seconds=0.05, clip_seconds=1) as emu,
        NemoClient(base_url=emu.url, journal_path=False) as nemo,
    ):
        with pytest.raises(InsufficientCreditsError) as caught:
            await nemo.generate_and_export("a storm", tmp_path / "s.mp4")
    assert "bind=" in (caught.value.register_url or "")
    assert not (tmp_path / "s.mp4").exists()


async def test_cancelling_during_download_leaves_no_file_and_a_journal_entry(
    client: NemoClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.mp4"
    ids: dict[str, str] = {}
    parked = asyncio.Event()

    async def park_in_download(progress: Progress) -> None:
        if progress.render_id:
            ids["render"] = progress.render_id
        if progress.phase == "downloading" and progress.percent:
            parked.set()
            await asyncio.Event().wait()  # hold the download until the test cancels it

    task = asyncio.create_task(
        client.generate_and_export("a comet", out, on_progress=park_in_download)
    )
    await asyncio.wait_for(parked.wait(), 30)
    task.cancel()  # what Ctrl-C does to asyncio.run's task
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not out.exists()
    pending = await client.renders.pending()
    assert [p.render_id for p in pending] == [ids["render"]]
    # And the id alone finishes the job.
    path = await client.renders.download(ids["render"], out)
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1
    assert await client.renders.pending() == []


async def test_cancelling_during_render_keeps_the_render_resumable(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    # Long enough to be cancelled mid-render.
    emulator.knobs = dataclasses.replace(emulator.knobs, render_seconds=30.0)
    rendering = asyncio.Event()

    def on_progress(progress: Progress) -> None:
        if progress.phase == "rendering":
            rendering.set()

    task = asyncio.create_task(
        client.generate_and_export("a meteor", tmp_path / "m.mp4", on_progress=on_progress)
    )
    await asyncio.wait_for(rendering.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (entry,) = await client.renders.pending()
    assert entry.render_id.startswith("render_")
    assert not (tmp_path / "m.mp4").exists()


async def test_the_agents_gui_talk_becomes_suggested_actions(
    client: NemoClient, tmp_path: Path
) -> None:
    result = await client.generate_and_export("a harbour", tmp_path / "h.mp4")
    assert "Click Export" in result.reply.text
    assert [s.action.value for s in result.reply.suggested_actions] == ["export"]
