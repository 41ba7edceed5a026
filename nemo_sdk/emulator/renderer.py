"""Render a draft (API.md "The draft (timeline) format") into a real video file.

Tracks: ``tt`` 0 video, 1 audio/BGM, 7 text/title; other types are ignored.
Segment metadata follows API.md "Emulator choices": ``s`` start (ms; without
it a track's segments play back to back), ``d`` duration (ms), ``m.url``,
``m.text``, ``m.volume`` (0-1), ``m.src_in`` (trim start, ms), ``m.name``.
A video or audio segment without a url is painted or played procedurally
from its name, so a draft such as the seed's renders with no media at all.

Pictures are composited in YUV 4:2:0, the encoder's own format, so a frame
costs plane copies (and a small alpha blend under titles), not a colour
conversion. Sound is mixed in float32 stereo at 48 kHz, a frame's worth at
a time, interleaved with the pictures.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from nemo_sdk.emulator.media import (
    SAMPLE_RATE,
    AmbientSound,
    MediaError,
    MediaInfo,
    MusicBed,
    ProceduralPicture,
    encode_samples,
    probe,
    rgb_to_yuv420,
    yuv420_buffer,
)

__all__ = ["FORMATS", "QUALITIES", "RenderCancelled", "RenderError", "render_draft"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

VIDEO, AUDIO, TEXT = 0, 1, 7
_DEFAULT_SIZE = (1920, 1080)
# How often, in frames, cancellation is polled and progress reported.
_POLL_EVERY = 4


class RenderError(Exception):
    """The draft cannot be rendered: bad draft, missing media, unsupported output."""


class RenderCancelled(Exception):
    """``cancelled()`` returned true; the partial output was removed.

    Not a :class:`RenderError`: a cancelled render did not fail.
    """


@dataclass(frozen=True)
class _Output:
    container: str
    video_codec: str
    audio_codec: str | None
    pix_fmt: str
    options: tuple[tuple[str, str], ...] = ()  # container (muxer) options


FORMATS: dict[str, _Output] = {
    # faststart: the index goes first, so a browser can play from the CDN while downloading.
    "mp4": _Output("mp4", "libx264", "aac", "yuv420p", (("movflags", "+faststart"),)),
    "mov": _Output("mov", "libx264", "aac", "yuv420p", (("movflags", "+faststart"),)),
    "mkv": _Output("matroska", "libx264", "aac", "yuv420p"),
    "webm": _Output("webm", "libvpx-vp9", "libopus", "yuv420p"),
    # GIF has no sound and a 256-colour palette: no audio stream, rgb8 pixels.
    "gif": _Output("gif", "gif", None, "rgb8"),
}
"""Output formats ``render_draft`` writes, by the name the export request uses."""

QUALITIES = ("low", "medium", "high")
_X264 = {"low": ("ultrafast", "28"), "medium": ("superfast", "24"), "high": ("veryfast", "21")}
_VP9 = {"low": ("8", "42"), "medium": ("8", "36"), "high": ("7", "32")}
_AUDIO_BITRATE = {"low": 96_000, "medium": 128_000, "high": 160_000}


# ---------------------------------------------------------------- the draft


@dataclass(frozen=True)
class _Segment:
    track_type: int
    start: float  # seconds on the timeline
    end: float
    meta: Mapping[str, Any]

    def name(self, default: str) -> str:
        for key in ("name", "text", "prompt"):
            value = self.meta.get(key)
            if isinstance(value, str) and value.strip():
                return value
        return default

    @property
    def url(self) -> str | None:
        url = self.meta.get("url")
        return url if isinstance(url, str) and url else None

    @property
    def src_in(self) -> float:
        return max(0.0, _number(self.meta.get("src_in", 0), "m.src_in") / 1000)

    @property
    def volume(self) -> float:
        return min(1.0, max(0.0, _number(self.meta.get("volume", 1.0), "m.volume")))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RenderError(f"draft field {what} is not a number: {value!r}")
    try:
        return float(value)
    except ValueError:
        raise RenderError(f"draft field {what} is not a number: {value!r}") from None


def _segments(draft: Mapping[str, Any]) -> list[_Segment]:
    tracks = draft.get("t")
    if not isinstance(tracks, list):
        raise RenderError("draft has no track list 't'")
    out: list[_Segment] = []
    for track in tracks:
        if not isinstance(track, Mapping):
            continue
        try:
            track_type = int(track.get("tt", -1))
        except (TypeError, ValueError):
            continue
        if track_type not in (VIDEO, AUDIO, TEXT):
            continue
        cursor = 0.0
        for seg in track.get("sg") or ():
            if not isinstance(seg, Mapping):
                continue
            duration = _number(seg.get("d"), "d") / 1000
            start = _number(seg["s"], "s") / 1000 if "s" in seg else cursor
            cursor = start + max(duration, 0.0)
            meta = seg.get("m")
            if duration > 0:
                out.append(
                    _Segment(track_type, start, cursor, meta if isinstance(meta, Mapping) else {})
                )
    if not out:
        raise RenderError("draft has no segment to render")
    return out


def _canvas_size(
    draft: Mapping[str, Any], width: int | None, height: int | None
) -> tuple[int, int]:
    meta = draft.get("m")
    meta = meta if isinstance(meta, Mapping) else {}
    try:
        w = int(width or meta.get("width") or _DEFAULT_SIZE[0])
        h = int(height or meta.get("height") or _DEFAULT_SIZE[1])
    except (TypeError, ValueError) as exc:
        raise RenderError(f"bad canvas size: {exc}") from None
    if not (2 <= w <= 8192 and 2 <= h <= 8192):
        raise RenderError(f"canvas size {w}x{h} out of range")
    # 4:2:0 needs even sizes.
    return w - w % 2, h - h % 2


# ---------------------------------------------------------------- pictures


class _Canvas:
    """One yuv420p frame buffer, reused for every output frame."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.buffer, self.y, self.u, self.v = yuv420_buffer(width, height)

    def clear(self) -> None:
        self.y[...] = 16
        self.u[...] = 128
        self.v[...] = 128

    def paste(self, x: int, y: int, planes: tuple[U8, U8, U8]) -> None:
        py, pu, pv = planes
        h, w = py.shape
        self.y[y : y + h, x : x + w] = py
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pu
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pv


class _Layer(Protocol):
    covers: bool  # paints every pixel, so nothing under it needs drawing

    def draw(self, t: float, canvas: _Canvas) -> None: ...

    def close(self) -> None: ...


def _fit(src_w: int, src_h: int, canvas: _Canvas) -> tuple[int, int, int, int]:
    """Letterbox: the largest even size with the source's shape, centred at even offsets."""
    scale = min(canvas.width / src_w, canvas.height / src_h)
    w = max(2, min(canvas.width, round(src_w * scale / 2) * 2))
    h = max(2, min(canvas.height, round(src_h * scale / 2) * 2))
    x = (canvas.width - w) // 4 * 2
    y = (canvas.height - h) // 4 * 2
    return x, y, w, h


def _planes(frame: av.VideoFrame) -> tuple[U8, U8, U8]:
    """Views of a yuv420p frame's planes, without padding; valid while the frame lives."""
    out = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        out.append(rows[: plane.height, : plane.width])
    return out[0], out[1], out[2]


class _PictureLayer:
    covers = True

    def __init__(self, picture: ProceduralPicture, offset: float) -> None:
        self._picture = picture
        self._offset = offset

    def draw(self, t: float, canvas: _Canvas) -> None:
        self._picture.write_yuv(t + self._offset, canvas.y, canvas.u, canvas.v)

    def close(self) -> None:
        pass


class _StillLayer:
    def __init__(self, path: Path, canvas: _Canvas) -> None:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0), None)
        if frame is None:
            raise RenderError(f"image has no picture: {path.name}")
        self._x, self._y, w, h = _fit(frame.width, frame.height, canvas)
        self.covers = (w, h) == (canvas.width, canvas.height)
        # RGB first: images are often full-range (yuvj) and swscale gets that right.
        rgb = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
        self._planes = rgb_to_yuv420(rgb)

    def draw(self, t: float, canvas: _Canvas) -> None:
        canvas.paste(self._x, self._y, self._planes)

    def close(self) -> None:
        pass


class _ClipLayer:
    """A video file decoded forward in step with the timeline; past its end the last frame holds."""

    def __init__(self, path: Path, src_in: float, canvas: _Canvas) -> None:
        self._container = av.open(str(path))
        try:
            stream = self._container.streams.video[0]
            stream.thread_type = "AUTO"
            self._origin = (self._container.start_time or 0) / av.time_base
            if src_in > 0:
                # Seeks land on the keyframe at or before the target; frames
                # up to src_in are then decoded and dropped below.
                target = int(
                    (src_in + self._origin) / (stream.time_base or Fraction(1, av.time_base))
                )
                self._container.seek(target, stream=stream, backward=True)
            self._frames: Iterator[av.VideoFrame] = self._container.decode(stream)
            cc = stream.codec_context
            self._x, self._y, self._w, self._h = _fit(cc.width, cc.height, canvas)
        except Exception:
            self._container.close()
            raise
        self.covers = (self._w, self._h) == (canvas.width, canvas.height)
        self._src_in = src_in
        self._pending: av.VideoFrame | None = None
        self._current: av.VideoFrame | None = None
        self._scaled: tuple[U8, U8, U8] | None = None
        self._keep: av.VideoFrame | None = None
        self._eof = False

    def _time(self, frame: av.VideoFrame) -> float:
        return float(frame.time or 0.0) - self._origin

    def draw(self, t: float, canvas: _Canvas) -> None:
        target = self._src_in + t
        while not self._eof:
            if self._pending is None:
                self._pending = next(self._frames, None)
                if self._pending is None:
                    self._eof = True
                    break
            # Half a millisecond of slack: frame times are rounded to the time base.
            if self._current is None or self._time(self._pending) <= target + 5e-4:
                self._current, self._pending, self._scaled = self._pending, None, None
            else:
                break
        if self._current is None:
            raise RenderError("video source has no frames")
        if self._scaled is None:
            self._keep = self._current.reformat(width=self._w, height=self._h, format="yuv420p")
            self._scaled = _planes(self._keep)
        canvas.paste(self._x, self._y, self._scaled)

    def close(self) -> None:
        self._container.close()


class _TitleLayer:
    """Centred white text with a soft dark shadow, rasterised once and alpha-blended per frame."""

    covers = False

    def __init__(self, text: str, canvas: _Canvas) -> None:
        size = max(10, round(canvas.height * 0.09))
        font = ImageFont.load_default(size=size)
        lines = _wrap(text, font, canvas.width * 0.9)
        shadow = max(1, size // 14)
        pad = 3 * shadow
        probe_draw = ImageDraw.Draw(Image.new("L", (1, 1)))
        left, top, right, bottom = (
            round(v)
            for v in probe_draw.multiline_textbbox((0, 0), lines, font=font, align="center")
        )
        w = min(canvas.width, right - left + 2 * pad)
        h = min(canvas.height, bottom - top + 2 * pad)
        w, h = w + w % 2, h + h % 2
        origin = (pad - left, pad - top)
        shade = Image.new("L", (w, h), 0)
        ImageDraw.Draw(shade).multiline_text(
            (origin[0] + shadow, origin[1] + shadow), lines, font=font, fill=200, align="center"
        )
        shade = shade.filter(ImageFilter.GaussianBlur(shadow))
        ink = Image.new("L", (w, h), 0)
        ImageDraw.Draw(ink).multiline_text(origin, lines, font=font, fill=255, align="center")
        ink_a = np.asarray(ink, dtype=np.float32) / 255
        shade_a = np.asarray(shade, dtype=np.float32) / 255
        alpha = ink_a + shade_a * (1 - ink_a)
        grey = np.where(alpha > 0, 255 * ink_a / np.maximum(alpha, 1e-6), 0)
        rgb = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
        a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        self._x = min((canvas.width - w) // 4 * 2, canvas.width - w)
        self._y = min((canvas.height - h) // 4 * 2, canvas.height - h)
        planes = rgb_to_yuv420(rgb, a8)
        a_full = a8.astype(np.uint16)
        a_half = a_full.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).round().astype(np.uint16)
        # Precomputed fg*a and 255-a: the per-frame blend is one multiply-add.
        self._blend = [
            (p.astype(np.uint16) * a, (255 - a).astype(np.uint16))
            for p, a in zip(planes, (a_full, a_half, a_half), strict=True)
        ]

    def draw(self, t: float, canvas: _Canvas) -> None:
        x, y = self._x, self._y
        for plane, div, (fg, inv) in zip(
            (canvas.y, canvas.u, canvas.v), (1, 2, 2), self._blend, strict=True
        ):
            h, w = fg.shape
            region = plane[y // div : y // div + h, x // div : x // div + w]
            # Max (255*(255-a) + 255*a + 127) fits in uint16.
            region[...] = (region * inv + fg + 127) // 255

    def close(self) -> None:
        pass


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> str:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------- sounds


class _AudioReader(Protocol):
    def read(self, count: int) -> F32: ...

    def close(self) -> None: ...


def _synth(
    kind: Callable[[str], AmbientSound | MusicBed], name: str, offset: float
) -> _SynthReader:
    return _SynthReader(kind(name), offset)


class _SynthReader:
    def __init__(self, source: AmbientSound | MusicBed, offset: float) -> None:
        self._source = source
        self._pos = round(offset * SAMPLE_RATE)

    def read(self, count: int) -> F32:
        out = self._source.samples(self._pos, count)
        self._pos += count
        return out

    def close(self) -> None:
        pass


class _FileAudioReader:
    """A file's first audio stream from ``src_in`` on, as 48 kHz stereo float32; silence after."""

    def __init__(self, path: Path, src_in: float) -> None:
        self._container = av.open(str(path))
        self._chunks: list[F32] = []
        self._buffered = 0
        self._frames: Iterator[av.AudioFrame] | None = None
        self._skip = 0
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            return
        stream = streams[0]
        origin = (self._container.start_time or 0) / av.time_base
        if src_in > 0:
            self._container.seek(int((src_in + origin) * av.time_base), backward=True)
        self._frames = self._container.decode(stream)
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self._origin, self._src_in = origin, src_in
        self._first = True

    def _pull(self) -> bool:
        if self._frames is None:
            return False
        frame = next(self._frames, None)
        for out in self._resampler.resample(frame):
            block = out.to_ndarray().astype(np.float32, copy=False)
            if self._first:
                # The seek lands at or before src_in: drop the head up to it.
                self._first = False
                start = float(frame.time or 0.0) - self._origin if frame is not None else 0.0
                self._skip = max(0, round((self._src_in - start) * SAMPLE_RATE))
            if self._skip:
                cut = min(self._skip, block.shape[1])
                block, self._skip = block[:, cut:], self._skip - cut
            if block.shape[1]:
                self._chunks.append(block)
                self._buffered += block.shape[1]
        if frame is None:
            self._frames = None
        return True

    def read(self, count: int) -> F32:
        while self._buffered < count and self._pull():
            pass
        data = (
            np.concatenate(self._chunks, axis=1) if self._chunks else np.zeros((2, 0), np.float32)
        )
        out, rest = data[:, :count], data[:, count:]
        self._chunks = [rest] if rest.shape[1] else []
        self._buffered = rest.shape[1]
        if out.shape[1] < count:
            out = np.pad(out, ((0, 0), (0, count - out.shape[1])))
        return out

    def close(self) -> None:
        self._container.close()


class _Closable(Protocol):
    def close(self) -> None: ...


_T = TypeVar("_T", bound=_Closable)


@dataclass
class _Timed(Generic[_T]):
    """A layer or reader with its place on the timeline, opened on first use."""

    segment: _Segment
    opener: Callable[[], _T]
    opened: _T | None = None

    def get(self) -> _T:
        if self.opened is None:
            self.opened = self.opener()
        return self.opened

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None


# ---------------------------------------------------------------- render


class _Plan:
    """Which layer and sound each segment becomes, built before any output is opened."""

    def __init__(
        self,
        segments: list[_Segment],
        canvas: _Canvas,
        resolve_media: Callable[[str], Path | None],
    ) -> None:
        self.layers: list[_Timed[_Layer]] = []
        self.titles: list[_Timed[_Layer]] = []
        self.sounds: list[_Timed[_AudioReader]] = []
        pictures: dict[str, ProceduralPicture] = {}

        def picture(name: str) -> ProceduralPicture:
            if name not in pictures:
                pictures[name] = ProceduralPicture(name, canvas.width, canvas.height)
            return pictures[name]

        for seg in segments:
            if seg.track_type == TEXT:
                text = seg.meta.get("text")
                if isinstance(text, str) and text.strip():
                    self.titles.append(_Timed(seg, partial(_TitleLayer, text, canvas)))
                continue
            source = self._resolve(seg, resolve_media)
            sound: Callable[[], _AudioReader] | None = None
            if seg.track_type == VIDEO:
                layer: Callable[[], _Layer]
                if source is None:
                    name = seg.name("video")
                    layer = partial(_PictureLayer, picture(name), seg.src_in)
                    sound = partial(_synth, AmbientSound, name, seg.src_in)
                elif source[1].kind == "image":
                    layer = partial(_StillLayer, source[0], canvas)
                else:
                    layer = partial(_ClipLayer, source[0], seg.src_in, canvas)
                    if source[1].has_audio:
                        sound = partial(_FileAudioReader, source[0], seg.src_in)
                self.layers.append(_Timed(seg, layer))
            elif source is None:
                sound = partial(_synth, MusicBed, seg.name("music"), seg.src_in)
            elif source[1].has_audio:
                sound = partial(_FileAudioReader, source[0], seg.src_in)
            else:
                raise RenderError(f"audio segment media has no sound: {seg.url}")
            # Muted segments are never decoded at all.
            if sound is not None and seg.volume > 0:
                self.sounds.append(_Timed(seg, sound))

    @staticmethod
    def _resolve(
        seg: _Segment, resolve_media: Callable[[str], Path | None]
    ) -> tuple[Path, MediaInfo] | None:
        url = seg.url
        if url is None:
            return None
        path = resolve_media(url)
        if path is None:
            raise RenderError(f"media not found: {url}")
        try:
            return path, probe(path)
        except MediaError as exc:
            raise RenderError(f"media unreadable: {url}: {exc}") from exc

    def close(self) -> None:
        for layer in (*self.layers, *self.titles):
            layer.close()
        for sound in self.sounds:
            sound.close()


def _add_video_stream(
    container: av.container.OutputContainer, out: _Output, quality: str, canvas: _Canvas, fps: int
) -> av.video.stream.VideoStream:
    stream = container.add_stream(out.video_codec, rate=fps)
    assert isinstance(stream, av.video.stream.VideoStream)
    stream.width, stream.height, stream.pix_fmt = canvas.width, canvas.height, out.pix_fmt
    if out.video_codec == "libx264":
        preset, crf = _X264[quality]
        stream.options = {"preset": preset, "crf": crf}
    elif out.video_codec == "libvpx-vp9":
        speed, crf = _VP9[quality]
        # b=0 makes crf a constant-quality target rather than a bitrate cap.
        stream.options = {
            "crf": crf,
            "b": "0",
            "deadline": "realtime",
            "cpu-used": speed,
            "row-mt": "1",
        }
    if out.pix_fmt == "yuv420p":
        # Tag what the pixels are (BT.601, limited range, see media.rgb_to_yuv420)
        # so players do not guess BT.709 for HD sizes.
        cc = stream.codec_context
        cc.colorspace = cc.color_primaries = cc.color_trc = 6  # SMPTE 170M
        cc.color_range = 1  # MPEG (limited)
    stream.thread_type = "AUTO"
    return stream


def render_draft(
    draft: Mapping[str, Any],
    out_path: Path,
    *,
    resolve_media: Callable[[str], Path | None],
    width: int | None = None,
    height: int | None = None,
    fps: int = 30,
    format: str = "mp4",
    quality: str = "high",
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> MediaInfo:
    """Render ``draft`` into ``out_path`` and return the written file's :class:`MediaInfo`.

    ``resolve_media`` maps a segment's ``m.url`` to a local file (``None``:
    missing, a :class:`RenderError`). Canvas size: ``width``/``height``, else
    the draft's ``m.width``/``m.height``, else 1920x1080. The output lasts
    until the end of the last segment. ``format`` is a key of :data:`FORMATS`,
    ``quality`` one of :data:`QUALITIES`. ``progress`` gets fractions rising
    to exactly 1.0 once the file is complete; ``cancelled`` is polled every
    few frames and a true answer raises :class:`RenderCancelled`. The file
    appears at ``out_path`` only when complete.
    """
    out = FORMATS.get(format)
    if out is None:
        raise RenderError(f"unsupported format {format!r}; supported: {', '.join(FORMATS)}")
    if quality not in QUALITIES:
        raise RenderError(f"unsupported quality {quality!r}; supported: {', '.join(QUALITIES)}")
    if not 1 <= fps <= 120:
        raise RenderError(f"fps {fps} out of range 1-120")
    segments = _segments(draft)
    canvas = _Canvas(*_canvas_size(draft, width, height))
    duration = max(seg.end for seg in segments)
    frames = max(1, round(duration * fps))
    samples = round(duration * SAMPLE_RATE)
    tmp = out_path.with_name(f".{out_path.name}.part")
    plan = _Plan(segments, canvas, resolve_media)
    try:
        with av.open(str(tmp), "w", format=out.container, options=dict(out.options)) as container:
            video = _add_video_stream(container, out, quality, canvas, fps)
            audio: av.audio.stream.AudioStream | None = None
            if out.audio_codec is not None:
                audio = container.add_stream(out.audio_codec, rate=SAMPLE_RATE, layout="stereo")
                assert isinstance(audio, av.audio.stream.AudioStream)
                audio.bit_rate = _AUDIO_BITRATE[quality]
            done = 0
            for i in range(frames):
                if i % _POLL_EVERY == 0:
                    if cancelled is not None and cancelled():
                        raise RenderCancelled("render cancelled")
                    if progress is not None and i:
                        progress(min(0.99, i / frames))
                t = i / fps
                _compose(plan, canvas, t)
                frame = av.VideoFrame.from_ndarray(canvas.buffer, format="yuv420p")
                if out.pix_fmt != "yuv420p":
                    frame = frame.reformat(format=out.pix_fmt)
                frame.pts, frame.time_base = i, Fraction(1, fps)
                container.mux(video.encode(frame))
                if audio is not None:
                    upto = min(samples, round((i + 1) * SAMPLE_RATE / fps))
                    if i == frames - 1:
                        upto = samples
                    encode_samples(container, audio, _mix(plan, done, upto), done)
                    done = upto
            container.mux(video.encode(None))
            if audio is not None:
                container.mux(audio.encode(None))
        os.replace(tmp, out_path)
    except (av.error.FFmpegError, OSError) as exc:
        # Media that vanished or broke mid-render, or an encoder failure.
        raise RenderError(f"render failed: {exc}") from exc
    finally:
        plan.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if progress is not None:
        progress(1.0)
    return probe(out_path)


def _active(timed: list[_Timed[_T]], t: float) -> list[_Timed[_T]]:
    live = []
    for item in timed:
        if item.segment.start <= t < item.segment.end:
            live.append(item)
        elif t >= item.segment.end:
            item.close()  # done with it: release decoders as the timeline moves on
    return live


def _compose(plan: _Plan, canvas: _Canvas, t: float) -> None:
    layers = _active(plan.layers, t)
    # Start from the topmost layer that paints everything; what lies under it is hidden.
    first = 0
    for k in range(len(layers) - 1, -1, -1):
        if layers[k].get().covers:
            first = k
            break
    else:
        canvas.clear()
    for item in layers[first:]:
        item.get().draw(t - item.segment.start, canvas)
    for item in _active(plan.titles, t):
        item.get().draw(t - item.segment.start, canvas)


def _mix(plan: _Plan, start: int, end: int) -> F32:
    mix = np.zeros((2, end - start), np.float32)
    for item in plan.sounds:
        seg = item.segment
        s0, s1 = round(seg.start * SAMPLE_RATE), round(seg.end * SAMPLE_RATE)
        lo, hi = max(start, s0), min(end, s1)
        if lo < hi:
            mix[:, lo - start : hi - start] += item.get().read(hi - lo) * seg.volume
        if end >= s1:
            item.close()
    return np.clip(mix, -1.0, 1.0)
