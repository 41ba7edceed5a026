"""How fast the emulator renders the seed timeline, against plain encoders.

Rows, each the best of ``--repeat`` runs:
- emulator: ``render_draft`` of the seed's 3-track timeline (API.md: video
  "city timelapse" 0-10 s, BGM "Lo-fi" at 35 %, title "Urban Dreams" 0-3 s);
- plain av: a bare PyAV loop encoding the same number of frames of the same
  kind of picture (a scrolling landscape, built as RGB numpy arrays, as most
  numpy+PyAV code does) plus 10 s of AAC, with the same codec settings;
- ffmpeg CLI (when installed): ``testsrc2`` plus a sine, same settings.

Run: ``.venv/bin/python benchmarks/render.py [--width 1920 --height 1080]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nemo_sdk.emulator.media import SAMPLE_RATE, ProceduralPicture

# The renderer's own quality table, so every row encodes with the same settings.
from nemo_sdk.emulator.renderer import _AUDIO_BITRATE, _X264, render_draft

SEED_DRAFT = {
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080},
    "t": [
        {"tt": 0, "sg": [{"d": 10_000, "m": {"name": "city timelapse"}}]},
        {"tt": 1, "sg": [{"d": 10_000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
        {"tt": 7, "sg": [{"d": 3_000, "m": {"text": "Urban Dreams"}}]},
    ],
}
SECONDS = 10.0


def emulator(out: Path, width: int, height: int, fps: int, quality: str) -> None:
    render_draft(
        SEED_DRAFT,
        out,
        resolve_media=lambda url: None,
        width=width,
        height=height,
        fps=fps,
        quality=quality,
    )


def plain_av(out: Path, width: int, height: int, fps: int, quality: str) -> None:
    preset, crf = _X264[quality]
    # The same landscape as an RGB strip twice the width; each frame is a window.
    rgb = ProceduralPicture("city timelapse", width, height).frame(0).to_ndarray(format="rgb24")
    strip = np.concatenate([rgb, rgb], axis=1)
    t = np.arange(round(SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    sound = np.stack([0.1 * np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32)
    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": preset, "crf": crf}
        video.thread_type = "AUTO"
        audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio.bit_rate = _AUDIO_BITRATE[quality]
        frames = round(SECONDS * fps)
        per_frame = SAMPLE_RATE // fps
        for i in range(frames):
            off = (i * 4) % width
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(strip[:, off : off + width]), format="rgb24"
            )
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(video.encode(frame))
            block = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(sound[:, i * per_frame : (i + 1) * per_frame]),
                format="fltp",
                layout="stereo",
            )
            block.sample_rate, block.pts = SAMPLE_RATE, i * per_frame
            container.mux(audio.encode(block))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))


def ffmpeg_cli(out: Path, width: int, height: int, fps: int, quality: str) -> None:
    preset, crf = _X264[quality]
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
            "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate={SAMPLE_RATE}",
            "-t", str(SECONDS),
            "-c:v", "libx264", "-preset", preset, "-crf", crf, "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", str(_AUDIO_BITRATE[quality]), "-ac", "2",
            str(out),
        ],
        check=True,
    )  # fmt: skip


def best_of(
    repeat: int, run: Callable[[Path, int, int, int, str], None], *args: int | str
) -> tuple[float, float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            out = Path(tmp) / f"out{k}.mp4"
            start = time.perf_counter()
            run(out, *args)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--quality", choices=sorted(_X264), default="high")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frames = round(SECONDS * args.fps)
    size = (args.width, args.height, args.fps, args.quality)
    rows = [("emulator render_draft (seed, 3 tracks)", emulator)]
    rows.append(("plain av numpy loop (rgb24 -> libx264)", plain_av))
    if shutil.which("ffmpeg"):
        rows.append(("ffmpeg CLI testsrc2", ffmpeg_cli))
    preset, crf = _X264[args.quality]
    print(
        f"{frames} frames {args.width}x{args.height} @ {args.fps} fps + AAC, "
        f"libx264 preset={preset} crf={crf}; best of {args.repeat}"
    )
    print(f"| {'run':<40} | {'wall s':>7} | {'median s':>8} | {'fps':>6} | {'emu/this time':>13} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 10}|{'-' * 8}|{'-' * 15}|")
    results = [(name, *best_of(args.repeat, run, *size)) for name, run in rows]
    base = results[0][1]
    for name, best, median in results:
        print(
            f"| {name:<40} | {best:>7.2f} | {median:>8.2f} | {frames / best:>6.1f} "
            f"| {base / best:>13.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
