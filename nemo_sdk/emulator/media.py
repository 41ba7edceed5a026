"""Procedural media: the emulator's stand-in for a video model.

API.md "Emulator choices": what the emulator "generates" is a procedural
picture derived from the prompt, not the output of a video model. The same
prompt always gives the same pixels and samples, so tests can compare files.

Pictures are produced directly in YUV 4:2:0 (BT.601, limited range, the
ffmpeg default) so the encoder gets frames without a colour conversion per
frame; sound is float32 stereo at 48 kHz.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
import numpy.typing as npt

__all__ = [
    "SAMPLE_RATE",
    "AmbientSound",
    "MediaError",
    "MediaInfo",
    "MusicBed",
    "ProceduralPicture",
    "encode_samples",
    "generate_audio",
    "generate_clip",
    "probe",
    "rgb_to_yuv420",
    "yuv420_buffer",
]

SAMPLE_RATE = 48_000
"""Sample rate of every procedural sound and of rendered audio."""

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


class MediaError(ValueError):
    """A file is not readable as video, image or audio."""


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as :func:`probe` reads it."""

    kind: Literal["video", "image", "audio"]
    duration: float
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool
    format: str


def _seed(text: str) -> int:
    # hashlib, not hash(): str hashes are salted per process and the output
    # must be the same on every run.
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def _even(n: int) -> int:
    # 4:2:0 chroma needs even sizes (libx264 refuses odd ones).
    return max(2, n - n % 2)


# ---------------------------------------------------------------- pictures

# (sky top, sky bottom, sun, ridge) in RGB; a keyword in the prompt picks one,
# so "sunset over the ocean" comes out warm and "forest" green.
_PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "warm": ((60, 30, 90), (250, 140, 60), (255, 220, 140), (70, 30, 50)),
    "sea": ((20, 60, 130), (110, 190, 230), (255, 250, 220), (10, 50, 90)),
    "night": ((5, 5, 25), (40, 30, 80), (230, 230, 255), (15, 10, 30)),
    "green": ((90, 160, 210), (200, 230, 200), (255, 245, 200), (30, 90, 40)),
    "city": ((20, 10, 50), (190, 60, 140), (80, 240, 255), (25, 20, 40)),
    "snow": ((150, 180, 220), (235, 240, 250), (255, 255, 255), (200, 210, 225)),
    "desert": ((110, 160, 220), (240, 210, 150), (255, 250, 210), (190, 120, 60)),
}
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "warm": ("sunset", "sunrise", "dusk", "fire", "warm", "autumn", "golden"),
    "sea": ("ocean", "sea", "beach", "water", "wave", "lake", "river", "sky"),
    "night": ("night", "space", "star", "moon", "dark", "galaxy"),
    "green": ("forest", "tree", "grass", "garden", "jungle", "nature", "spring"),
    "city": ("city", "urban", "street", "neon", "cyberpunk", "traffic", "timelapse"),
    "snow": ("snow", "winter", "ice", "mountain", "frost"),
    "desert": ("desert", "sand", "dune", "canyon"),
}


def _palette(prompt: str, rng: np.random.Generator) -> tuple[str, F64]:
    words = prompt.lower()
    names = list(_PALETTES)
    chosen = next(
        (name for name, keys in _KEYWORDS.items() if any(k in words for k in keys)),
        names[int(rng.integers(len(names)))],
    )
    base = np.array(_PALETTES[chosen], dtype=np.float64)
    # A little jitter so two prompts with the same keyword still differ.
    return chosen, np.clip(base + rng.uniform(-25, 25, size=base.shape), 0, 255)


def rgb_to_yuv420(rgb: U8, alpha: U8 | None = None) -> tuple[U8, U8, U8]:
    """Convert an even-sized (H, W, 3) RGB image to BT.601 limited-range planes.

    Returns Y (H, W) and U, V (H/2, W/2). Chroma is the mean of each 2x2
    block, weighted by ``alpha`` (H, W) when given so that transparent
    pixels do not tint the edges of an overlay.
    """
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.25679 * r + 0.50413 * g + 0.09791 * b
    u = 128 - 0.14822 * r - 0.29099 * g + 0.43922 * b
    v = 128 + 0.43922 * r - 0.36779 * g - 0.07143 * b
    h, w = y.shape
    weight = np.ones((h, w), np.float32) if alpha is None else alpha.astype(np.float32) + 1e-3

    def pool(plane: F32) -> F32:
        num = (plane * weight).reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
        den = weight.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
        return num / den  # type: ignore[no-any-return]

    return (
        np.clip(y + 0.5, 0, 255).astype(np.uint8),
        np.clip(pool(u) + 0.5, 0, 255).astype(np.uint8),
        np.clip(pool(v) + 0.5, 0, 255).astype(np.uint8),
    )


class ProceduralPicture:
    """An animated landscape painted from a prompt: sky, sun and ridges, scrolling.

    The picture is computed once, one canvas wide and periodic, stored twice
    side by side; a frame is a window into it at an offset that grows with
    time, so per frame the cost is one copy.
    """

    def __init__(self, prompt: str, width: int, height: int) -> None:
        self.width = _even(width)
        self.height = _even(height)
        rng = np.random.default_rng(_seed(prompt))
        theme, palette = _palette(prompt, rng)
        rgb = self._paint(rng, palette, skyline=theme == "city")
        y, u, v = rgb_to_yuv420(rgb)
        self._y = np.concatenate([y, y], axis=1)
        self._u = np.concatenate([u, u], axis=1)
        self._v = np.concatenate([v, v], axis=1)
        # A full canvas width every 8 to 20 s, whatever the resolution.
        self._speed = self.width / float(rng.uniform(8.0, 20.0))

    def _paint(self, rng: np.random.Generator, pal: F64, *, skyline: bool) -> U8:
        w, h = self.width, self.height
        xs = np.arange(w, dtype=np.float64)
        ys = np.arange(h, dtype=np.float64)[:, None]
        top, bottom, sun, ridge = pal
        sky = top + (bottom - top) * (ys / max(h - 1, 1))[..., None]  # (h, 1, 3)
        img = np.broadcast_to(sky, (h, w, 3))
        # Sun glow, with wrap-around distance so the picture tiles seamlessly.
        cx, cy = rng.uniform(0, w), rng.uniform(0.25, 0.55) * h
        dx = np.abs(xs - cx)
        dx = np.minimum(dx, w - dx)
        dist = np.sqrt(dx[None, :] ** 2 + (ys - cy) ** 2) / h
        glow = np.exp(-((dist / 0.12) ** 2))[..., None]
        img = img * (1 - glow) + sun * glow
        for layer in range(3):
            horizon = self._skyline(rng, layer) if skyline else self._ridge(rng, layer)
            shade = 0.55 + 0.25 * layer
            colour = ridge * shade + bottom * (1 - shade) * 0.3
            below = ys > horizon[None, :]
            img = np.where(below[..., None], colour, img)
        if skyline:
            # Lit windows on the front row of buildings, about a third of them.
            cell = max(3, h // 90)
            col, row = (xs // cell).astype(np.int64), (ys // cell).astype(np.int64)
            on = rng.random((h // cell + 1, w // cell + 1)) < 0.3
            lit = (col % 2 == 1) & (row % 2 == 1) & on[row, col] & below
            img = np.where(lit[..., None], np.array([255.0, 215, 140]), img)
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)

    def _ridge(self, rng: np.random.Generator, layer: int) -> F64:
        """Hills: sums of sines with whole numbers of periods across the width."""
        xs = np.arange(self.width, dtype=np.float64)
        horizon = np.full(self.width, (0.55 + 0.13 * layer) * self.height)
        for _ in range(3):
            cycles = int(rng.integers(1, 7))
            amp = rng.uniform(0.01, 0.06) * self.height
            horizon += amp * np.sin(2 * np.pi * cycles * xs / self.width + rng.uniform(0, 6.3))
        return horizon

    def _skyline(self, rng: np.random.Generator, layer: int) -> F64:
        """Buildings: blocks of random width and height; the last one ends at the edge."""
        w, h = self.width, self.height
        horizon = np.empty(w)
        x = 0
        while x < w:
            block = int(rng.uniform(0.02, 0.07) * w) + 2
            top = rng.uniform(0.2 + 0.15 * layer, 0.55 + 0.12 * layer) * h
            horizon[x : x + block] = top
            x += block
        return horizon

    def _offset(self, t: float) -> int:
        off = int(self._speed * max(t, 0.0)) % self.width
        return off - off % 2

    def write_yuv(self, t: float, y: U8, u: U8, v: U8) -> None:
        """Copy the frame at ``t`` seconds into the given Y, U and V planes."""
        off = self._offset(t)
        w, hw = self.width, self.width // 2
        y[...] = self._y[:, off : off + w]
        u[...] = self._u[:, off // 2 : off // 2 + hw]
        v[...] = self._v[:, off // 2 : off // 2 + hw]

    def frame(self, t: float) -> av.VideoFrame:
        """The frame at ``t`` seconds as a yuv420p :class:`av.VideoFrame`."""
        buf, y, u, v = yuv420_buffer(self.width, self.height)
        self.write_yuv(t, y, u, v)
        return av.VideoFrame.from_ndarray(buf, format="yuv420p")


def yuv420_buffer(width: int, height: int) -> tuple[U8, U8, U8, U8]:
    """A packed yuv420p buffer, as ``av.VideoFrame.from_ndarray`` takes it, and plane views."""
    buf = np.zeros((height * 3 // 2, width), dtype=np.uint8)
    flat = buf.reshape(-1)
    n, q = width * height, width * height // 4
    y = flat[:n].reshape(height, width)
    u = flat[n : n + q].reshape(height // 2, width // 2)
    v = flat[n + q : n + 2 * q].reshape(height // 2, width // 2)
    # Neutral chroma: zeros would be green, not black.
    u[...] = 128
    v[...] = 128
    y[...] = 16
    return buf, y, u, v


# ---------------------------------------------------------------- sounds


def _looped_noise(rng: np.random.Generator, seconds: float, cutoff: float) -> F32:
    """Stereo low-passed noise whose end joins its start (filtered in the FFT domain)."""
    n = int(SAMPLE_RATE * seconds)
    spec = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec *= 1 / (1 + (freqs / cutoff) ** 2)
    out = np.fft.irfft(spec, n=n, axis=1)
    loop: F32 = (out / (np.abs(out).max() + 1e-9)).astype(np.float32)
    return loop


class AmbientSound:
    """A quiet room tone for a generated clip: soft noise and a slow drone."""

    def __init__(self, prompt: str) -> None:
        rng = np.random.default_rng(_seed("ambient:" + prompt))
        self._noise = _looped_noise(rng, 4.0, 400.0)
        self._freqs = 55.0 * 2 ** (rng.integers(0, 12) / 12) * np.array([1.0, 1.5, 2.0])

    def samples(self, start: int, count: int) -> F32:
        """``count`` stereo samples from sample index ``start`` on, shape (2, count)."""
        idx = np.arange(start, start + count)
        t = idx / SAMPLE_RATE
        swell = 0.5 + 0.5 * np.sin(2 * np.pi * t / 7.0)
        drone = sum(np.sin(2 * np.pi * f * t) for f in self._freqs) / len(self._freqs)
        noise = self._noise[:, idx % self._noise.shape[1]]
        out: F32 = (0.03 * noise + (0.02 + 0.02 * swell) * drone).astype(np.float32)
        return out


_PROGRESSIONS = (
    (0, 9, 5, 7),  # I vi IV V
    (2, 7, 0, 0),  # ii V I I
    (0, 5, 9, 7),  # I IV vi V
    (9, 5, 0, 7),  # vi IV I V
)
# Scale degree (semitones above the key) -> seventh-chord intervals.
_CHORDS = {
    0: (0, 4, 7, 11),
    2: (0, 3, 7, 10),
    5: (0, 4, 7, 11),
    7: (0, 4, 7, 10),
    9: (0, 3, 7, 10),
}


class MusicBed:
    """A loopable music bed from a name like "Lo-fi": seventh chords and a soft beat.

    Every sample is a function of its index, so any stretch can be rendered
    on its own and a renderer can stream it in chunks.
    """

    def __init__(self, name: str) -> None:
        rng = np.random.default_rng(_seed("music:" + name))
        words = name.lower()
        if any(k in words for k in ("upbeat", "energetic", "dance", "edm", "pop", "rock")):
            bpm = rng.uniform(110, 128)
        elif any(k in words for k in ("calm", "ambient", "piano", "sad", "sleep")):
            bpm = rng.uniform(58, 70)
        else:
            bpm = rng.uniform(72, 88)  # lo-fi tempo
        self._beat = int(SAMPLE_RATE * 60 / bpm)
        self._bar = self._beat * 4
        self._key = 110.0 * 2 ** (int(rng.integers(0, 8)) / 12)
        self._progression = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
        self._noise = _looped_noise(rng, 1.0, 8000.0)[0]

    def samples(self, start: int, count: int) -> F32:
        """``count`` stereo samples from sample index ``start`` on, shape (2, count)."""
        idx = np.arange(start, start + count, dtype=np.int64)
        t = idx / SAMPLE_RATE
        bar = idx // self._bar
        in_bar = (idx % self._bar) / SAMPLE_RATE
        degrees = np.array(self._progression)[bar % len(self._progression)]
        left = np.zeros(count)
        right = np.zeros(count)
        # Lo-fi "wow": a slow 0.2 % pitch wobble, integrated into the phase.
        wow_rate, wow_depth = 0.5, 0.002
        env = (1 - np.exp(-in_bar / 0.05)) * np.exp(-in_bar / 2.5)
        for degree in sorted(set(degrees.tolist())):
            mask = degrees == degree
            root = self._key * 2 ** (degree / 12)
            for k, interval in enumerate(_CHORDS[degree]):
                f = root * 2 ** (interval / 12)
                tm = t[mask]
                phase = 2 * np.pi * f * tm - (f * wow_depth / wow_rate) * np.cos(
                    2 * np.pi * wow_rate * tm
                )
                tone = np.sin(phase) + 0.25 * np.sin(2 * phase)
                pan = 0.35 + 0.1 * k
                left[mask] += tone * (1 - pan)
                right[mask] += tone * pan
        chords = 0.12 * env
        in_beat = (idx % self._beat) / SAMPLE_RATE
        beat_no = (idx // self._beat) % 4
        kick = np.sin(2 * np.pi * (50 * in_beat + 8 * (1 - np.exp(-in_beat / 0.04))))
        kick *= np.exp(-in_beat / 0.15)
        noise = self._noise[(idx % self._beat) % self._noise.shape[0]]
        snare = noise * np.exp(-in_beat / 0.08) * ((beat_no == 1) | (beat_no == 3))
        half = self._beat // 2
        in_half = (idx % half) / SAMPLE_RATE
        hat = self._noise[idx % self._noise.shape[0]] * np.exp(-in_half / 0.02)
        drums = 0.35 * kick + 0.12 * snare + 0.04 * hat
        mix = np.stack([left * chords + drums, right * chords + drums])
        out: F32 = np.clip(mix, -1, 1).astype(np.float32)
        return out


# ---------------------------------------------------------------- files


def encode_samples(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    block: F32,
    pts: int,
) -> None:
    """Encode a (2, n) float32 block of 48 kHz stereo that starts at sample ``pts``."""
    if not block.shape[1]:
        return
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    frame.pts, frame.time_base = pts, Fraction(1, SAMPLE_RATE)
    container.mux(stream.encode(frame))


def _encode_sound(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    source: AmbientSound | MusicBed,
    start: int,
    end: int,
) -> None:
    """Encode samples [start, end) of ``source``, a quarter second at a time."""
    chunk = SAMPLE_RATE // 4
    for pos in range(start, end, chunk):
        encode_samples(container, stream, source.samples(pos, min(chunk, end - pos)), pos)


def _add_aac(container: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    stream.bit_rate = 128_000
    return stream


def generate_clip(
    prompt: str,
    path: Path,
    *,
    duration: float = 5.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 24,
) -> MediaInfo:
    """Write a playable H.264/AAC MP4 painted from ``prompt`` and return its probe.

    The picture comes from :class:`ProceduralPicture`, the sound from
    :class:`AmbientSound`; sizes are rounded down to even numbers.
    """
    if duration <= 0 or fps <= 0:
        raise ValueError("duration and fps must be positive")
    picture = ProceduralPicture(prompt, width, height)
    ambient = AmbientSound(prompt)
    frames = max(1, round(duration * fps))
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = picture.width, picture.height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "28"}
        audio = _add_aac(container)
        buf, y, u, v = yuv420_buffer(picture.width, picture.height)
        for i in range(frames):
            t = i / fps
            picture.write_yuv(t, y, u, v)
            frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(video.encode(frame))
            # Keep the two streams interleaved instead of audio piling up at the end.
            _encode_sound(
                container,
                audio,
                ambient,
                round(i * SAMPLE_RATE / fps),
                round((i + 1) * SAMPLE_RATE / fps),
            )
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return probe(path)


def generate_audio(name: str, path: Path, *, duration: float = 10.0) -> MediaInfo:
    """Write a music bed named ``name`` (see :class:`MusicBed`) as AAC; returns its probe.

    The container follows the suffix: ``.m4a`` (default), ``.mp4``, ``.mkv``.
    """
    if duration <= 0:
        raise ValueError("duration must be positive")
    fmt = {".mp4": "mp4", ".mkv": "matroska", ".mka": "matroska"}.get(path.suffix.lower(), "ipod")
    with av.open(str(path), "w", format=fmt) as container:
        stream = _add_aac(container)
        _encode_sound(container, stream, MusicBed(name), 0, round(duration * SAMPLE_RATE))
        container.mux(stream.encode(None))
    return probe(path)


# ---------------------------------------------------------------- probe

_IMAGE_DEMUXERS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe")


def _duration(container: av.container.InputContainer) -> float:
    if container.duration is not None:
        return float(container.duration) / av.time_base
    best = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            best = max(best, float(stream.duration * stream.time_base))
    if best:
        return best
    # Files written without a duration (streamed Matroska): read packet times.
    for packet in container.demux():
        if packet.pts is not None and packet.time_base is not None:
            end = packet.pts + (packet.duration or 0)
            best = max(best, float(end * packet.time_base))
    return best


def probe(path: Path) -> MediaInfo:
    """Read kind, duration, size, frame rate and audio presence of a media file.

    Raises :class:`MediaError` when the file is missing or is not video, image or audio.
    """
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"not a readable media file: {path}: {exc}") from exc
    with container:
        fmt_names = container.format.name.split(",")
        video = container.streams.video[0] if container.streams.video else None
        has_audio = bool(container.streams.audio)
        if (video is None and not has_audio) or "tty" in fmt_names:
            raise MediaError(f"no video or audio stream in {path}")
        # Name the format as the file does when the demuxer agrees ("m4a", not
        # "mov"); image demuxers are "<codec>_pipe".
        name = fmt_names[0].removesuffix("_pipe")
        known = {name, *fmt_names, *(container.format.extensions or ())}
        if name == "jpeg":
            known.add("jpg")
        suffix = path.suffix.lower().lstrip(".")
        fmt = suffix if suffix in known else name
        if video is None:
            return MediaInfo("audio", _duration(container), None, None, None, True, fmt)
        width, height = video.codec_context.width, video.codec_context.height
        still = fmt_names[0] in _IMAGE_DEMUXERS or (
            fmt_names[0] in ("gif", "webp") and (video.frames or 0) <= 1 and not has_audio
        )
        if still:
            return MediaInfo("image", 0.0, width, height, None, False, fmt)
        rate = video.average_rate or video.guessed_rate
        fps = float(rate) if rate else None
        if fps is not None and not math.isfinite(fps):
            fps = None
        return MediaInfo("video", _duration(container), width, height, fps, has_audio, fmt)
