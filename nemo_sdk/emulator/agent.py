"""The emulator's agent: plain phrases in, draft changes out. Rule-based, and it says so.

It understands (case-insensitive, anywhere in the message):

* ``generate <prompt>``: paints a procedural clip from the prompt (a real,
  playable MP4, see :mod:`.media`) and puts it on the video track; costs
  ``generation_cost`` credits, frozen while the clip is made;
* ``add BGM|music ["Name"] [at N%]``: a music bed on an audio track (``tt`` 1);
* ``add a title "X" [for N s]``: a text track (``tt`` 7);
* ``trim to N s``: cuts every track at N seconds;
* ``make it W:H`` (``9:16``, ``1:1``...): the canvas and the draft's ``m.width/height``.

A generation prompt sets the clip's length ("a 10 second city timelapse", "5s") and the
canvas ("1080p", "720p", "vertical", "9:16"). Uploaded media goes on the timeline when
a message refers to it (by file name, or "the uploaded clip"), and before an edit of a
session whose timeline has no video yet (upload files, then "add a title ...").

Anything else gets a text answer listing these. Edits other than generation
cost ``edit_cost`` once per session (API.md: "editing about 50 a session").
Drafts follow API.md "Emulator choices": segments may carry ``s`` (start, ms),
``d`` is the duration (ms), ``m`` holds ``url``, ``text``, ``volume``, ``name``.
"""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .media import generate_audio, generate_clip

AUTHOR = "nemo_agent"
"""The ``author`` of every event the agent sends."""

HELP = (
    "I am the NemoVideo emulator's rule-based agent, not a video model. I understand: "
    '"generate <prompt>", "add BGM at 35%", "add a title \'X\' for 3 s", "trim to 5 s" '
    'and "make it 9:16".'
)

Draft = dict[str, Any]

_NUMBER = r"(\d+(?:\.\d+)?)"
_QUOTED = re.compile(r"""["'“‘]([^"'”’]+)["'”’]""")
_GENERATE = re.compile(r"\bgenerate\b\s*(?:a |an )?(.*)", re.I | re.S)
_BGM = re.compile(r"\b(bgm|music|soundtrack)\b", re.I)
_PERCENT = re.compile(_NUMBER + r"\s*%")
_TITLE = re.compile(r"\btitle\b", re.I)
_FOR_SECONDS = re.compile(r"\bfor\s+" + _NUMBER + r"\s*(?:s|sec|secs|seconds?)\b", re.I)
_TRIM = re.compile(r"\btrim\b.*?\bto\s+" + _NUMBER + r"\s*(?:s|sec|secs|seconds?)\b", re.I)
_ASPECT = re.compile(r"\b(\d{1,2})\s*:\s*(\d{1,2})\b")
_LENGTH = re.compile(
    _NUMBER + r"\s*-?\s*(?:s|sec|secs|seconds?|(?P<min>min|mins|minutes?))\b", re.I
)
_RESOLUTION = re.compile(r"\b(2160|1440|1080|720|480|360)p\b", re.I)
_VERTICAL = re.compile(r"\b(vertical|portrait|tiktok|reels|shorts)\b", re.I)
_SQUARE = re.compile(r"\bsquare\b", re.I)
_UPLOADED = re.compile(
    r"\b(uploaded|upload|my (?:clip|video|footage|file|photo|image)s?|the (?:clip|footage|file))\b",
    re.I,
)
MAX_CLIP_SECONDS = 120.0
"""The longest clip a prompt may ask for (a painted clip takes time to make)."""


@dataclass(frozen=True)
class Intent:
    """What a message asks: a ``tool`` with ``args``, or ``None`` for a text answer."""

    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def generates(self) -> bool:
        return self.tool == "generate_video"


def prompt_shape(prompt: str) -> dict[str, Any]:
    """What a generation prompt says of the clip: ``seconds``, ``ratio``, ``long_side``."""
    shape: dict[str, Any] = {}
    length = _LENGTH.search(prompt)
    if length:
        seconds = float(length.group(1)) * (60 if length.group("min") else 1)
        if seconds > 0:
            shape["seconds"] = min(seconds, MAX_CLIP_SECONDS)
    ratio = _ASPECT.search(prompt)
    if ratio and int(ratio.group(1)) > 0 and int(ratio.group(2)) > 0:
        shape["ratio"] = f"{int(ratio.group(1))}:{int(ratio.group(2))}"
    elif _VERTICAL.search(prompt):
        shape["ratio"] = "9:16"
    elif _SQUARE.search(prompt):
        shape["ratio"] = "1:1"
    resolution = _RESOLUTION.search(prompt)
    if resolution:
        short = int(resolution.group(1))
        shape["long_side"] = short * 16 // 9
        shape.setdefault("ratio", "16:9")
    return shape


def referred_uploads(
    message: str, uploads: Sequence[Mapping[str, Any]], draft: Draft | None
) -> list[str]:
    """File names of the uploads ``message`` puts on the timeline (not there yet).

    Named ones ("use beach.mp4", "the beach clip"); all of them for "the uploaded clip";
    and all of them before an edit of a timeline that has no video yet.
    """
    placed = {
        seg.get("m", {}).get("url") for track in (draft or {}).get("t") or []
        for seg in track.get("sg") or []
    }  # fmt: skip
    waiting = [
        u for u in uploads
        if u.get("url") not in placed and u.get("file_type") in ("video", "image")
    ]  # fmt: skip
    if not waiting:
        return []
    lowered = message.lower()
    named = [
        str(u["filename"]) for u in waiting
        if u.get("filename") and (
            str(u["filename"]).lower() in lowered
            or re.search(rf"\b{re.escape(Path(str(u['filename'])).stem.lower())}\b", lowered)
        )
    ]  # fmt: skip
    if named:
        return named
    has_video = any(t.get("tt") == 0 and t.get("sg") for t in (draft or {}).get("t") or [])
    if _UPLOADED.search(message) or not has_video:
        return [str(u.get("filename")) for u in waiting]
    return []


def understand(
    message: str,
    uploads: Sequence[Mapping[str, Any]] = (),
    draft: Draft | None = None,
) -> Intent:
    """The intent of ``message`` under the rules in the module docstring.

    ``uploads`` (the session's ``video_infos``) and ``draft`` let a message refer to
    uploaded media: their file names come in ``args["uploads"]``.
    """
    intent = _understand(message)
    if intent.generates:
        return intent
    files = referred_uploads(message, uploads, draft)
    if not files:
        return intent
    if intent.tool is None:
        return Intent("use_uploads", {"uploads": files})
    return Intent(intent.tool, {**intent.args, "uploads": files})


def _understand(message: str) -> Intent:
    text = message.strip()
    quoted = _QUOTED.search(text)
    generate = _GENERATE.search(text)
    if generate:
        prompt = generate.group(1).strip() or "an abstract scene"
        return Intent("generate_video", {"prompt": prompt, **prompt_shape(prompt)})
    if re.search(r"\badd\b", text, re.I) and _BGM.search(text):
        percent = _PERCENT.search(text)
        name = quoted.group(1) if quoted else ("Lo-fi" if "lo-fi" in text.lower() else "Music")
        volume = min(100.0, float(percent.group(1))) / 100 if percent else 0.5
        return Intent("add_bgm", {"name": name, "volume": volume})
    if _TITLE.search(text) and re.search(r"\badd\b", text, re.I):
        seconds = _FOR_SECONDS.search(text)
        return Intent(
            "add_title",
            {
                "text": quoted.group(1) if quoted else "Title",
                "seconds": float(seconds.group(1)) if seconds else 3.0,
            },
        )
    trim = _TRIM.search(text)
    if trim:
        return Intent("trim", {"seconds": float(trim.group(1))})
    aspect = _ASPECT.search(text)
    if aspect and int(aspect.group(1)) > 0 and int(aspect.group(2)) > 0:
        return Intent("set_aspect", {"ratio": f"{int(aspect.group(1))}:{int(aspect.group(2))}"})
    return Intent(None)


def answer(message: str) -> str:
    """The text answer to a message that asks for no edit."""
    return f"You said: {message.strip()[:200]!r}. {HELP}"


def done_text(intent: Intent, result: dict[str, Any]) -> str:
    """What the agent says after a tool ran."""
    args = intent.args
    placed = (
        f" ({', '.join(args['uploads'])} first on the video track)" if args.get("uploads") else ""
    )
    if placed and intent.tool not in ("generate_video", "use_uploads"):
        return (
            done_text(
                Intent(intent.tool, {k: v for k, v in args.items() if k != "uploads"}), result
            )
            + placed
        )
    if intent.tool == "generate_video":
        return (
            f"Done: a {result['duration']:g} s procedural clip of {args['prompt']!r} is on "
            "the video track (rule-based emulator: a painted picture, not a video model). "
            "Click Export when you are happy with it."  # the real agent's GUI talk
        )
    if intent.tool == "add_bgm":
        return f"Added BGM {args['name']!r} at {round(args['volume'] * 100)}% volume."
    if intent.tool == "add_title":
        return f"Added the title {args['text']!r} for {args['seconds']:g} s."
    if intent.tool == "trim":
        return f"Trimmed the video to {args['seconds']:g} s."
    if intent.tool == "use_uploads":
        return f"Put {', '.join(args['uploads'])} on the video track."
    return f"The canvas is now {args['ratio']} ({result['width']}x{result['height']})."


# ---------------------------------------------------------------- drafts


def _spans(track: dict[str, Any]) -> list[tuple[float, float]]:
    spans, cursor = [], 0.0
    for seg in track.get("sg") or []:
        start = float(seg.get("s", cursor))
        end = start + float(seg.get("d", 0))
        spans.append((start, end))
        cursor = end
    return spans


def draft_length(draft: Draft | None) -> float:
    """The draft's end in ms: its last segment's end (0 for none)."""
    if not draft:
        return 0.0
    ends = [end for track in draft.get("t") or [] for _, end in _spans(track)]
    return max(ends, default=0.0)


def _fresh(draft: Draft | None) -> Draft:
    out = copy.deepcopy(draft) if draft else {}
    out.setdefault("t", [])
    return out


def _finish(draft: Draft) -> Draft:
    draft["d"] = round(draft_length(draft))
    return draft


def _track(draft: Draft, tt: int) -> dict[str, Any]:
    for track in draft["t"]:
        if track.get("tt") == tt:
            return track  # type: ignore[no-any-return]
    track = {"tt": tt, "sg": []}
    draft["t"].append(track)
    return track


def add_video(draft: Draft | None, segment_meta: dict[str, Any], duration_ms: float) -> Draft:
    """Append a clip to the (first) video track."""
    out = _fresh(draft)
    _track(out, 0)["sg"].append({"d": round(duration_ms), "m": segment_meta})
    return _finish(out)


def add_audio(draft: Draft | None, segment_meta: dict[str, Any], duration_ms: float) -> Draft:
    """A new audio (BGM) track with one segment from 0."""
    out = _fresh(draft)
    out["t"].append({"tt": 1, "sg": [{"s": 0, "d": round(duration_ms), "m": segment_meta}]})
    return _finish(out)


def add_text(draft: Draft | None, text: str, duration_ms: float) -> Draft:
    """A new text (title) track with one segment from 0."""
    out = _fresh(draft)
    out["t"].append({"tt": 7, "sg": [{"s": 0, "d": round(duration_ms), "m": {"text": text}}]})
    return _finish(out)


def trim(draft: Draft | None, end_ms: float) -> Draft:
    """Cut every track at ``end_ms``: later segments go, crossing ones are shortened."""
    out = _fresh(draft)
    for track in out["t"]:
        kept = []
        for seg, (start, end) in zip(track.get("sg") or [], _spans(track), strict=True):
            if start >= end_ms:
                continue
            if end > end_ms:
                seg["d"] = round(end_ms - start)
            seg.setdefault("s", round(start))  # keep its place once neighbours change
            kept.append(seg)
        track["sg"] = kept
    return _finish(out)


def aspect_size(ratio: str, long_side: int = 1920) -> tuple[int, int]:
    """Width and height (even) of ``ratio`` (``"9:16"``) with the longer side ``long_side``."""
    w, h = (int(n) for n in ratio.split(":"))
    if w >= h:
        return long_side, max(2, round(long_side * h / w / 2) * 2)
    return max(2, round(long_side * w / h / 2) * 2), long_side


def set_size(draft: Draft | None, width: int, height: int) -> Draft:
    """The draft's ``m.width`` and ``m.height``."""
    out = _fresh(draft)
    out["m"] = {**(out.get("m") or {}), "width": width, "height": height}
    return _finish(out)


# ---------------------------------------------------------------- media


@dataclass(frozen=True)
class ClipSettings:
    """Size of generated clips (small by default: tests make many)."""

    seconds: float = 1.0
    width: int = 320
    height: int = 180
    fps: int = 12


def clip_for(args: Mapping[str, Any], default: ClipSettings) -> ClipSettings:
    """The clip a generation makes: the prompt's length, else the default's."""
    seconds = args.get("seconds")
    if seconds is None:
        return default
    return ClipSettings(float(seconds), default.width, default.height, default.fps)


def canvas_for(args: Mapping[str, Any], clip: ClipSettings) -> tuple[int, int, str] | None:
    """The canvas a generation prompt asks for (``width, height, ratio``), or ``None``."""
    ratio = args.get("ratio")
    if ratio is None:
        return None
    long_side = int(args.get("long_side") or max(clip.width, clip.height))
    width, height = aspect_size(str(ratio), long_side)
    return width, height, str(ratio)


def place_uploads(
    draft: Draft | None, names: Sequence[str], uploads: Sequence[Mapping[str, Any]]
) -> Draft | None:
    """Put the named uploads at the end of the video track (images for 3 s), in order."""
    out = draft
    for name in names:
        entry = next((u for u in uploads if u.get("filename") == name), None)
        if entry is None:
            continue
        seconds = float(entry.get("duration") or 0) or 3.0
        meta = {"url": entry.get("url"), "name": name, "width": entry.get("width"),
                "height": entry.get("height")}  # fmt: skip
        out = add_video(out, meta, seconds * 1000)
    return out


def new_media_name(suffix: str) -> str:
    return f"gen_{uuid.uuid4().hex[:16]}{suffix}"


async def make_clip(
    prompt: str, directory: Path, settings: ClipSettings, url_of: Callable[[str], str]
) -> dict[str, Any]:
    """Paint a clip in a worker thread; its ``generated_media`` entry (url, duration, size)."""
    name = new_media_name(".mp4")
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    info = await asyncio.to_thread(
        generate_clip,
        prompt,
        directory / name,
        duration=settings.seconds,
        width=settings.width,
        height=settings.height,
        fps=settings.fps,
    )
    return {
        "type": "video",
        "name": prompt[:80],
        "prompt": prompt,
        "url": url_of(name),
        "duration": info.duration,
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
    }


async def make_music(
    name: str, seconds: float, directory: Path, url_of: Callable[[str], str]
) -> dict[str, Any]:
    """Write a music bed in a worker thread; its ``generated_media`` entry."""
    file_name = new_media_name(".m4a")
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    info = await asyncio.to_thread(generate_audio, name, directory / file_name, duration=seconds)
    return {"type": "audio", "name": name, "url": url_of(file_name), "duration": info.duration}


__all__ = [
    "AUTHOR",
    "HELP",
    "ClipSettings",
    "Intent",
    "add_audio",
    "add_text",
    "add_video",
    "answer",
    "aspect_size",
    "canvas_for",
    "clip_for",
    "done_text",
    "draft_length",
    "make_clip",
    "make_music",
    "place_uploads",
    "prompt_shape",
    "referred_uploads",
    "set_size",
    "trim",
    "understand",
]
