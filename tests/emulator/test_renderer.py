"""The emulator's renderer: drafts (API.md "The draft (timeline) format") become real files."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from nemo_sdk.emulator.media import MediaInfo, generate_audio, generate_clip
from nemo_sdk.emulator.renderer import FORMATS, RenderCancelled, RenderError, render_draft

# The seed's example timeline (API.md): video "city timelapse" 0-10 s, BGM
# "Lo-fi" 0-10 s at 35 %, title "Urban Dreams" 0-3 s.
SEED_DRAFT: dict[str, Any] = {
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080},
    "t": [
        {"tt": 0, "sg": [{"d": 10_000, "m": {"name": "city timelapse"}}]},
        {"tt": 1, "sg": [{"d": 10_000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
        {"tt": 7, "sg": [{"d": 3_000, "m": {"text": "Urban Dreams"}}]},
    ],
}


def no_media(url: str) -> Path | None:
    return None


def serve(files: dict[str, Path]) -> Callable[[str], Path | None]:
    return files.get


def video_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def frame_at(path: Path, t: float) -> np.ndarray:
    frame = min(video_frames(path), key=lambda f: abs(float(f.time) - t))
    return frame.to_ndarray(format="rgb24")


def audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def streams(path: Path) -> tuple[int, int, float]:
    with av.open(str(path)) as container:
        return (
            len(container.streams.video),
            len(container.streams.audio),
            container.duration / av.time_base,
        )


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt((samples.astype(np.float64) ** 2).mean()))


@pytest.fixture(scope="module")
def seed_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MediaInfo, list[float]]:
    out = tmp_path_factory.mktemp("render") / "urban.mp4"
    seen: list[float] = []
    info = render_draft(
        SEED_DRAFT, out, resolve_media=no_media, width=320, height=180, progress=seen.append
    )
    return out, info, seen


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "upload.mp4"
    generate_clip("harbour at dawn", path, duration=4.0, width=160, height=90, fps=24)
    return path


def test_seed_timeline_renders_ten_seconds_with_one_video_and_one_audio_stream(
    seed_render: tuple[Path, MediaInfo, list[float]],
) -> None:
    out, info, _ = seed_render
    n_video, n_audio, duration = streams(out)
    assert (n_video, n_audio) == (1, 1)
    assert duration == pytest.approx(10.0, abs=0.1)
    assert info.duration == pytest.approx(10.0, abs=0.1)
    assert (info.width, info.height, info.fps) == (320, 180, 30.0)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.streams.audio[0].codec_context.sample_rate == 48_000


def test_seed_title_shows_only_in_its_first_three_seconds(
    seed_render: tuple[Path, MediaInfo, list[float]],
) -> None:
    out, _, _ = seed_render
    # The title is white, centred; nothing else in the city picture is that bright.
    centre = (slice(60, 120), slice(60, 260))

    def white(frame: np.ndarray) -> int:
        return int((frame[centre].min(axis=2) > 225).sum())

    assert white(frame_at(out, 1.0)) > 100
    assert white(frame_at(out, 5.0)) < 5


def test_seed_audio_is_not_silent(seed_render: tuple[Path, MediaInfo, list[float]]) -> None:
    out, _, _ = seed_render
    samples = audio(out)
    assert samples.shape[0] == 2
    assert samples.shape[1] / 48_000 == pytest.approx(10.0, abs=0.1)
    assert rms(samples) > 0.01
    # Music at 35 % of a bed that peaks below 1: never clipping.
    assert np.abs(samples).max() < 0.9


def test_progress_rises_to_exactly_one(seed_render: tuple[Path, MediaInfo, list[float]]) -> None:
    _, _, seen = seed_render
    assert len(seen) > 10
    assert seen == sorted(seen)
    assert all(0.0 <= p <= 1.0 for p in seen)
    assert seen[-1] == 1.0
    assert seen.count(1.0) == 1


def test_uploaded_clip_is_trimmed_by_src_in_and_placed_by_s(clip: Path, tmp_path: Path) -> None:
    draft = {
        "t": [
            {
                "tt": 0,
                "sg": [{"s": 1000, "d": 2000, "m": {"url": "nemo://u/clip", "src_in": 1500}}],
            }
        ]
    }
    out = tmp_path / "trim.mp4"
    info = render_draft(
        draft, out, resolve_media=serve({"nemo://u/clip": clip}), width=160, height=90, fps=24
    )
    assert info.duration == pytest.approx(3.0, abs=0.1)
    # Before the segment starts: black.
    assert frame_at(out, 0.5).mean() < 5
    # 1.5 s into the timeline is 0.5 s into the segment, so 2.0 s into the source.
    rendered = frame_at(out, 1.5).astype(int)
    right = np.abs(rendered - frame_at(clip, 2.0)).mean()
    untrimmed = np.abs(rendered - frame_at(clip, 0.5)).mean()
    assert right < 4 < untrimmed
    # The clip's own (quiet) sound comes along, and only while the clip plays.
    samples = audio(out)
    assert rms(samples[:, : 48_000 - 2048]) < 1e-4
    assert rms(samples[:, 48_000 + 2048 :]) > 1e-3


def test_music_file_is_trimmed_by_src_in(tmp_path: Path) -> None:
    song = tmp_path / "song.m4a"
    generate_audio("Lo-fi", song, duration=4.0)
    draft = {"t": [{"tt": 1, "sg": [{"d": 1500, "m": {"url": "song", "src_in": 1250}}]}]}
    out = tmp_path / "bgm.mp4"
    render_draft(draft, out, resolve_media=serve({"song": song}), width=64, height=36)
    got, source = audio(out)[0, 4800:60000], audio(song)[0]

    def similarity(offset: float) -> float:
        start = round(offset * 48_000) + 4800
        want = source[start : start + got.size]
        return float(np.dot(got, want) / (np.linalg.norm(got) * np.linalg.norm(want)))

    assert similarity(1.25) > 0.95
    assert similarity(0.0) < 0.5


def test_images_and_other_shapes_are_letterboxed(tmp_path: Path) -> None:
    still = tmp_path / "square.png"
    Image.new("RGB", (100, 100), (220, 30, 30)).save(still)
    draft = {"t": [{"tt": 0, "sg": [{"d": 500, "m": {"url": "img"}}]}]}
    out = tmp_path / "box.mp4"
    render_draft(draft, out, resolve_media=serve({"img": still}), width=320, height=180)
    frame = frame_at(out, 0.2).astype(int)
    assert frame[:, :60].max() < 30  # bars left and right
    assert frame[:, 260:].max() < 30
    red, green, blue = frame[60:120, 120:200].reshape(-1, 3).mean(axis=0)
    assert red > 180 and green < 70 and blue < 70


def test_segments_without_start_play_back_to_back(tmp_path: Path) -> None:
    names = ("ocean", "forest", "city")
    draft = {"t": [{"tt": 0, "sg": [{"d": 400, "m": {"name": n}} for n in names]}]}
    out = tmp_path / "seq.mp4"
    info = render_draft(draft, out, resolve_media=no_media, width=64, height=36)
    assert info.duration == pytest.approx(1.2, abs=0.05)
    frames = [frame_at(out, t).astype(int) for t in (0.2, 0.6, 1.0)]
    assert np.abs(frames[0] - frames[1]).mean() > 10
    assert np.abs(frames[1] - frames[2]).mean() > 10


def test_muted_music_and_muted_video_give_silence(tmp_path: Path) -> None:
    draft = {
        "t": [
            {"tt": 0, "sg": [{"d": 1000, "m": {"name": "city", "volume": 0}}]},
            {"tt": 1, "sg": [{"d": 1000, "m": {"name": "Lo-fi", "volume": 0}}]},
        ]
    }
    out = tmp_path / "mute.mp4"
    render_draft(draft, out, resolve_media=no_media, width=64, height=36)
    assert streams(out)[1] == 1
    assert np.abs(audio(out)).max() < 1e-4


def test_music_is_mixed_at_its_volume(tmp_path: Path) -> None:
    def level(volume: float) -> float:
        draft = {"t": [{"tt": 1, "sg": [{"d": 1000, "m": {"name": "Lo-fi", "volume": volume}}]}]}
        out = tmp_path / f"v{volume}.mp4"
        render_draft(draft, out, resolve_media=no_media, width=64, height=36)
        return rms(audio(out))

    full = level(1.0)
    assert full > 0.02
    assert level(0.35) / full == pytest.approx(0.35, abs=0.03)


def test_a_title_alone_still_has_an_audio_stream(tmp_path: Path) -> None:
    draft = {"t": [{"tt": 7, "sg": [{"d": 500, "m": {"text": "Hello"}}]}]}
    out = tmp_path / "title.mp4"
    render_draft(draft, out, resolve_media=no_media, width=64, height=36)
    assert streams(out)[:2] == (1, 1)
    assert np.abs(audio(out)).max() < 1e-4


def test_unknown_keys_and_track_types_are_ignored(tmp_path: Path) -> None:
    draft: dict[str, Any] = {
        "id": "draft_1",
        "v": 3,
        "cfg": {"fps": 25, "nested": [1, {"x": None}]},
        "m": {"title": "x", "theme": {"c": "#fff"}, "width": 96, "height": 54},
        "t": [
            {"tt": 0, "id": "trk", "lock": False, "sg": [
                {"d": 600, "id": "s1", "fx": [{"k": "blur"}], "m": {"name": "sea", "lut": 7}},
            ]},
            {"tt": 3, "sg": [{"d": 9000, "m": {"sticker": "star"}}]},  # unknown type: no effect
            {"tt": 7, "extra": {}, "sg": [{"d": 300, "m": {"text": "Hi", "font": "X"}, "z": 1}]},
            "not a track",
            {"tt": 1},
        ],
    }  # fmt: skip
    out = tmp_path / "extra.mp4"
    info = render_draft(draft, out, resolve_media=no_media)
    assert info.duration == pytest.approx(0.6, abs=0.05)
    assert (info.width, info.height) == (96, 54)


def test_draft_size_is_used_unless_overridden(tmp_path: Path) -> None:
    draft = {"m": {"width": 240, "height": 136}, "t": [{"tt": 0, "sg": [{"d": 200, "m": {}}]}]}
    out = tmp_path / "size.mp4"
    info = render_draft(draft, out, resolve_media=no_media)
    assert (info.width, info.height) == (240, 136)
    info = render_draft(draft, out, resolve_media=no_media, width=64, height=36)
    assert (info.width, info.height) == (64, 36)
    vertical = {"m": {"width": 90, "height": 160}, "t": draft["t"]}
    info = render_draft(vertical, out, resolve_media=no_media)
    assert (info.width, info.height) == (90, 160)


def test_missing_media_is_a_render_error_and_leaves_no_file(tmp_path: Path) -> None:
    draft = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"url": "https://cdn/gone.mp4"}}]}]}
    out = tmp_path / "missing.mp4"
    with pytest.raises(RenderError, match=r"gone\.mp4"):
        render_draft(draft, out, resolve_media=no_media, width=64, height=36)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "draft",
    [{}, {"t": []}, {"t": [{"tt": 0, "sg": []}]}, {"t": [{"tt": 0, "sg": [{"d": "soon"}]}]}],
)
def test_drafts_with_nothing_to_render_are_errors(draft: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(RenderError):
        render_draft(draft, tmp_path / "x.mp4", resolve_media=no_media, width=64, height=36)


def test_cancel_stops_the_render_and_removes_the_partial_file(tmp_path: Path) -> None:
    polls: list[int] = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) > 3

    out = tmp_path / "cancel.mp4"
    with pytest.raises(RenderCancelled):
        render_draft(
            SEED_DRAFT, out, resolve_media=no_media, width=64, height=36, cancelled=cancelled
        )
    assert len(polls) == 4
    assert list(tmp_path.iterdir()) == []
    assert not issubclass(RenderCancelled, RenderError)


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"mp4"}))
def test_other_formats_open_with_av(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"seed.{fmt}"
    short = copy.deepcopy(SEED_DRAFT)
    for track in short["t"]:
        track["sg"][0]["d"] = 1000
    info = render_draft(
        short, out, resolve_media=no_media, width=96, height=54, fps=10, format=fmt, quality="low"
    )
    n_video, n_audio, duration = streams(out)
    assert n_video == 1
    assert n_audio == (0 if fmt == "gif" else 1)  # GIF cannot carry sound
    assert duration == pytest.approx(1.0, abs=0.15)
    assert (info.width, info.height) == (96, 54)
    assert len(video_frames(out)) == 10


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
def test_quality_levels_all_render(quality: str, tmp_path: Path) -> None:
    draft = {"t": [{"tt": 0, "sg": [{"d": 300, "m": {"name": "city"}}]}]}
    info = render_draft(
        draft, tmp_path / "q.mp4", resolve_media=no_media, width=64, height=36, quality=quality
    )
    assert info.duration == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize(("key", "value"), [("format", "avi"), ("quality", "ultra")])
def test_unsupported_output_is_a_render_error(key: str, value: str, tmp_path: Path) -> None:
    options: dict[str, Any] = {key: value}
    with pytest.raises(RenderError, match=value):
        render_draft(
            SEED_DRAFT, tmp_path / "x.out", resolve_media=no_media, width=64, height=36, **options
        )
