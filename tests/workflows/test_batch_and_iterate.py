"""``nemo.batch`` and ``nemo.iterate`` against the emulator."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from nemo_sdk import InvalidArgument, NemoClient, UnsupportedFileType
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.media import generate_clip
from nemo_sdk.progress import Progress
from nemo_sdk.workflows import BatchItem


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / 1e6


@pytest.mark.slow
async def test_batch_results_come_in_input_order_one_session_each(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    prompts = ["a red barn", "a blue lake", "a green field", "a grey city", "a gold coast"]
    results = await client.batch(prompts, concurrency=2, out_dir=tmp_path)

    assert [r.index for r in results] == list(range(5))
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.item.prompt for r in results] == prompts
    paths = [r.result.path for r in results if r.result]
    assert paths == [tmp_path / f"batch_{i:03d}.mp4" for i in range(5)]
    assert all(duration(p) > 0 for p in paths)
    assert len({r.result.session_id for r in results if r.result}) == 5
    assert len({r.result.render.id for r in results if r.result}) == 5
    assert emulator.count("session") == 5


@pytest.mark.slow
async def test_one_failing_item_does_not_sink_the_rest(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    # Renders fail for exactly one export; the others go on.
    emulator.faults.add("export", "500", times=2)  # the first export and its one re-submit
    results = await client.batch(["a", "b", "c"], concurrency=1, out_dir=tmp_path)
    assert [r.ok for r in results] == [False, True, True]
    assert results[0].error is not None and results[0].result is None
    assert not (tmp_path / "batch_000.mp4").exists()
    assert (tmp_path / "batch_001.mp4").exists() and (tmp_path / "batch_002.mp4").exists()


@pytest.mark.slow
async def test_a_shared_session_gives_each_item_its_own_render(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    generate_clip("beach", clip, duration=1.0, width=160, height=90, fps=12)
    items = [
        BatchItem(prompt="a harbour at night"),
        BatchItem(prompt='add a title "Harbour" for 1 s', files=[clip], out=tmp_path / "t.mp4"),
        BatchItem(prompt="add BGM at 30%", out=tmp_path / "m.mp4"),
    ]
    seen: list[Progress] = []
    results = await client.batch(
        items, shared_session=True, concurrency=3, out_dir=tmp_path, on_progress=seen.append
    )
    assert all(r.ok for r in results), [r.error for r in results]
    sessions = {r.result.session_id for r in results if r.result}
    assert len(sessions) == 1 and emulator.count("session") == 1
    assert len({r.result.render.id for r in results if r.result}) == 3
    assert emulator.count("upload") == 1
    (sid,) = sessions
    assert len(emulator.store.sessions[sid].video_infos) == 1
    assert {p.session_id for p in seen if p.phase == "done"} == sessions


async def test_batch_checks_every_item_before_sending(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "batch_001.mp4").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        await client.batch(["a", "b"], out_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        await client.batch(["a", "b"], out_dir=tmp_path / "missing")
    with pytest.raises(InvalidArgument):
        await client.batch(["ok", "  "], out_dir=tmp_path, overwrite=True)
    with pytest.raises(InvalidArgument):
        await client.batch(["a", "b"], concurrency=0, out_dir=tmp_path)
    same = tmp_path / "same.mp4"
    with pytest.raises(InvalidArgument, match="output of another item"):
        await client.batch([BatchItem(prompt="a", out=same), BatchItem(prompt="b", out=same)])
    assert emulator.requests == []


async def test_a_bad_file_fails_its_item_only(
    client: NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video")
    items = [BatchItem(prompt="trim to 1 s", files=[fake]), BatchItem(prompt="a bridge")]
    results = await client.batch(items, out_dir=tmp_path)
    assert isinstance(results[0].error, UnsupportedFileType)
    assert results[1].ok
    assert emulator.count("upload") == 0  # the fake was refused before sending


@pytest.mark.slow
async def test_iterate_refines_the_timeline_and_exports_when_asked(
    client: NemoClient, tmp_path: Path
) -> None:
    first = await client.generate_and_export("a mountain", tmp_path / "v1.mp4")

    step = await client.iterate(first.session_id, 'add a title "Peak" for 1 s')
    assert step.changed
    assert 'Title: "Peak"' in step.timeline
    assert step.result is None
    assert len(step.draft.tracks) == len(first.draft.tracks) + 1

    final = await client.iterate(
        first.session_id, "add BGM at 40%", export=True, out=tmp_path / "v2.mp4"
    )
    assert final.result is not None and final.result.path.exists()
    assert final.result.render.id != first.render.id
    with av.open(str(final.result.path)) as container:
        assert len(container.streams.audio) == 1
    assert "BGM" in final.timeline or "Audio" in final.timeline


async def test_iterate_refuses_an_empty_instruction_before_sending(
    client: NemoClient, emulator: Emulator
) -> None:
    with pytest.raises(InvalidArgument):
        await client.iterate("ses_x", " ")
    assert emulator.requests == []
