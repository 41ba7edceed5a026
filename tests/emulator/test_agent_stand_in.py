"""The emulator's agent as a stand-in for the service: prompts shape the clip, uploads go
on the timeline, and the seed's example timeline is built by chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import NemoClient, RenderSettings
from nemo_sdk.emulator import Emulator, agent
from nemo_sdk.emulator.media import generate_clip
from nemo_sdk.workflows import BatchItem

av = pytest.importorskip("av")


@pytest.mark.parametrize(
    ("prompt", "shape"),
    [
        ("a 10 second city timelapse", {"seconds": 10.0}),
        ("a 5s clip of rain, 1080p", {"seconds": 5.0, "ratio": "16:9", "long_side": 1920}),
        ("a beach, 720p", {"ratio": "16:9", "long_side": 1280}),
        ("a vertical video of a dancer", {"ratio": "9:16"}),
        ("a fox, aspect ratio 9:16", {"ratio": "9:16"}),
        ("a 2 minute forest walk", {"seconds": 120.0}),
        ("a cinematic sunset over the ocean", {}),
    ],
)
def test_a_prompt_says_how_long_and_how_big(prompt: str, shape: dict[str, object]) -> None:
    assert agent.prompt_shape(prompt) == shape
    args = agent.understand(f"generate {prompt}").args
    assert {k: v for k, v in args.items() if k != "prompt"} == shape


UPLOADS = [
    {"filename": "beach.mp4", "file_type": "video", "url": "http://x/u/1.mp4", "duration": 2},
    {"filename": "city.mov", "file_type": "video", "url": "http://x/u/2.mov", "duration": 1},
]
VIDEO = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"url": "http://x/gen.mp4"}}]}]}


def test_uploads_are_referred_to_by_name_or_as_the_uploaded_clip() -> None:
    assert agent.understand("use the beach clip", UPLOADS, VIDEO).args == {
        "uploads": ["beach.mp4"]
    }
    assert agent.understand("use the uploaded clip", UPLOADS, VIDEO).tool == "use_uploads"
    assert agent.understand("add a title 'Hi'", UPLOADS, None).args["uploads"] == [
        "beach.mp4",
        "city.mov",
    ]  # an edit of a timeline without video starts from the uploads
    assert "uploads" not in agent.understand("add a title 'Hi'", UPLOADS, VIDEO).args
    assert "uploads" not in agent.understand("generate a beach", UPLOADS, None).args


def _streams(path: Path) -> tuple[float, list[str]]:
    with av.open(str(path)) as container:
        kinds = [s.type for s in container.streams]
        return container.duration / 1_000_000, kinds


@pytest.mark.slow
async def test_the_seeds_example_timeline_is_built_by_chat(tmp_path: Path) -> None:
    async with Emulator() as emu, NemoClient(
        base_url=emu.url, render_settings=RenderSettings(poll_interval=0.05),
        client_id_path=tmp_path / "cid",
        journal_path=False,
    ) as nemo:  # fmt: skip
        emu.store.starting_credits = 1000
        session = await nemo.sessions.create()
        await nemo.chat.send(session.id, "generate a 10 second city timelapse")
        await nemo.chat.send(session.id, 'add lo-fi BGM "Lo-fi" at 35%')
        await nemo.chat.send(session.id, "add a title 'Urban Dreams' for 3 s")
        draft = (await nemo.state.get(session.id)).draft
        assert draft is not None
        by_type = {int(t.track_type): t for t in draft.tracks}  # type: ignore[arg-type]
        video, audio, text = by_type[0], by_type[1], by_type[7]
        assert video.segment_spans() == [(0, 10_000)]
        assert audio.segment_spans() == [(0, 10_000)]
        assert audio.segments[0].metadata["volume"] == pytest.approx(0.35)
        assert text.segment_spans() == [(0, 3_000)]
        assert text.segments[0].metadata["text"] == "Urban Dreams"
        job = await nemo.renders.export(session.id, width=320, height=180)
        await nemo.renders.wait(job.id)
        out = await nemo.renders.download(job.id, tmp_path / "urban.mp4")
    seconds, kinds = _streams(out)
    assert seconds == pytest.approx(10, abs=0.2)
    assert sorted(kinds) == ["audio", "video"]


@pytest.mark.slow
async def test_a_batch_of_uploads_makes_videos_of_each_files_footage(tmp_path: Path) -> None:
    files = []
    for name, seconds in (("beach.mp4", 2.0), ("forest.mp4", 3.0)):
        generate_clip(name, tmp_path / name, duration=seconds, width=64, height=36, fps=8)
        files.append(tmp_path / name)
    (tmp_path / "out").mkdir()
    # The exports render at the canvas (no size asked): 64x36, not 1080p; the lengths are
    # what this test checks.
    async with Emulator(
        starting_credits=1000, render_seconds=0.05, canvas_width=64, canvas_height=36
    ) as emu, NemoClient(
        base_url=emu.url, render_settings=RenderSettings(poll_interval=0.05),
        client_id_path=tmp_path / "cid",
        journal_path=False,
    ) as nemo:  # fmt: skip
        results = await nemo.batch(
            [
                BatchItem(prompt="add a title 'Beach' for 1 s", files=[files[0]]),
                BatchItem(prompt="add lo-fi BGM at 30%", files=[files[1]]),
            ],
            out_dir=tmp_path / "out",
            concurrency=2,
        )
        for result in results:
            assert result.ok, result.error
        uploaded = [
            [seg.metadata["url"] for t in r.result.draft.tracks if t.track_type == 0
             for seg in t.segments]
            for r in results
        ]  # fmt: skip
    assert all(len(urls) == 1 and "/uploads/" in urls[0] for urls in uploaded)
    lengths = [_streams(r.result.path)[0] for r in results]
    assert lengths == [pytest.approx(2, abs=0.2), pytest.approx(3, abs=0.2)]
