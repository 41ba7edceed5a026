"""Procedural media of the emulator: generated clips and music play, probe right, repeat exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from nemo_sdk.emulator.media import (
    MediaError,
    MediaInfo,
    MusicBed,
    ProceduralPicture,
    generate_audio,
    generate_clip,
    probe,
)


def first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def audio_samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MediaInfo]:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    return path, generate_clip("harbour at dawn", path, duration=2.0, width=160, height=90, fps=24)


def test_generated_clip_probes_as_asked(clip: tuple[Path, MediaInfo]) -> None:
    path, info = clip
    assert info == probe(path)
    assert info.kind == "video"
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert (info.width, info.height, info.fps) == (160, 90, 24.0)
    assert info.has_audio
    assert info.format == "mp4"
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.streams.video[0].frames == 48


def test_generated_clip_moves_and_has_quiet_sound(clip: tuple[Path, MediaInfo]) -> None:
    path, _ = clip
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2
    peak = np.abs(audio_samples(path)).max()
    assert 0.005 < peak < 0.2


def test_same_prompt_same_pixels_other_prompt_other_pixels(
    clip: tuple[Path, MediaInfo], tmp_path: Path
) -> None:
    path, _ = clip
    again = tmp_path / "again.mp4"
    other = tmp_path / "other.mp4"
    generate_clip("harbour at dawn", again, duration=0.5, width=160, height=90, fps=24)
    generate_clip("harbour at noon", other, duration=0.5, width=160, height=90, fps=24)
    assert np.array_equal(first_frame(path), first_frame(again))
    assert not np.array_equal(first_frame(path), first_frame(other))


def test_output_does_not_depend_on_the_process() -> None:
    # str hashes are salted per process; the emulator restarts, its media must not change.
    script = (
        "import hashlib, numpy as np\n"
        "from nemo_sdk.emulator.media import MusicBed, ProceduralPicture\n"
        "pic = ProceduralPicture('harbour at dawn', 64, 36).frame(1.0).to_ndarray()\n"
        "bed = MusicBed('Lo-fi').samples(0, 4800)\n"
        "print(hashlib.sha256(pic.tobytes() + bed.tobytes()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_prompt_words_bias_the_colours() -> None:
    def mean_rgb(prompt: str) -> np.ndarray:
        frame = ProceduralPicture(prompt, 64, 36).frame(0.0).to_ndarray(format="rgb24")
        return frame.reshape(-1, 3).mean(axis=0)

    warm = mean_rgb("sunset over the desert")
    assert warm[0] > warm[2]
    forest = mean_rgb("a quiet forest")
    assert forest[1] > forest[0]


def test_odd_sizes_are_rounded_to_even(tmp_path: Path) -> None:
    info = generate_clip("odd", tmp_path / "odd.mp4", duration=0.25, width=101, height=57, fps=12)
    assert (info.width, info.height) == (100, 56)


def test_generated_music_is_audio_and_audible(tmp_path: Path) -> None:
    path = tmp_path / "lofi.m4a"
    info = generate_audio("Lo-fi", path, duration=3.0)
    assert info == MediaInfo("audio", info.duration, None, None, None, True, "m4a")
    assert info.duration == pytest.approx(3.0, abs=0.05)
    samples = audio_samples(path)
    assert samples.shape[0] == 2
    assert np.sqrt((samples**2).mean()) > 0.02


def test_music_bed_is_a_function_of_sample_index() -> None:
    bed = MusicBed("Lo-fi")
    whole = bed.samples(1000, 4000)
    parts = np.concatenate([bed.samples(1000, 1500), bed.samples(2500, 2500)], axis=1)
    assert np.allclose(whole, parts, atol=1e-6)
    assert not np.allclose(MusicBed("Epic rock").samples(1000, 4000), whole)


def test_probe_reads_images(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    assert probe(path) == MediaInfo("image", 0.0, 40, 30, None, False, "png")


@pytest.mark.parametrize("content", [b"just some text, not a video\n" * 20, b""])
def test_probe_rejects_non_media(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(MediaError):
        probe(path)


def test_probe_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        probe(tmp_path / "nope.mp4")
    assert issubclass(MediaError, ValueError)
