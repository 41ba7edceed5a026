"""Human-readable views of a draft: a one-line timeline and what changed between two drafts.

Pure functions over :class:`~nemo_sdk.models.draft.Draft`, no I/O.

Format of a timeline (the seed skill's "Track summary format", §3.4)::

    Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%)
    3. Title: "Urban Dreams" (0-3s)

(on one line). Each track is ``<n>. <Kind>: <segments>``, where the kind is
``Video`` (``tt`` 0), ``BGM`` (1), ``Title`` (7) or ``Track type <n>``, and the
segments of a track are comma-separated, each ``<label> (<start>-<end>s)``;
audio segments add their volume as a percent (``, 35%``) when they have one.
A track with no segments reads ``(empty)``. Times are seconds, whole numbers
when whole, else one decimal.

A segment's label is its ``m.name``, else ``m.text``, else ``m.title``, else
the file name of ``m.url``, else the track kind. On text tracks the title text
is what matters, so ``m.text`` (then ``m.title``, ``m.name``) comes first and is
quoted.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from .models.draft import Draft, Segment, Track, TrackType

__all__ = [
    "DraftDiff",
    "TrackDiff",
    "TrackWords",
    "diff_drafts",
    "format_segment",
    "format_timeline",
    "track_words",
]


@attrs.frozen
class TrackWords:
    """What a track type is called, one field per place that names it (see :func:`track_words`)."""

    kind: str
    """In a timeline: ``1. Video: ...``; also a segment's label of last resort."""
    track_noun: str
    """A whole track in a change summary: ``Added BGM track: ...``."""
    segment_noun: str
    """One segment in a change summary: ``Added video clip: ...``."""
    type_name: str
    """The ``type`` column of ``nemo state`` and its ``--json``."""


# One row per known type, so that every place that names tracks says the same thing.
_TRACK_WORDS = {
    TrackType.VIDEO: TrackWords("Video", "video track", "video clip", "video"),
    TrackType.AUDIO: TrackWords("BGM", "BGM track", "BGM", "audio (BGM)"),
    TrackType.TEXT: TrackWords("Title", "title track", "title", "text"),
}
_UNTYPED = TrackWords("Track", "track", "segment", "unknown")


def track_words(track: Track) -> TrackWords:
    """What ``track``'s type is called; a type the SDK does not know is named by its number."""
    tt = track.track_type
    if isinstance(tt, TrackType):
        return _TRACK_WORDS[tt]
    if tt is None:
        return _UNTYPED
    return TrackWords(
        kind=f"Track type {tt}",
        track_noun=f"track (type {tt})",
        segment_noun=f"segment (track type {tt})",
        type_name=f"type {tt}",
    )


def _seconds(ms: float) -> str:
    value = round(ms / 1000, 1)
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def _percent(volume: float) -> str:
    value = round(volume * 100, 1)
    return f"{int(value)}%" if value == int(value) else f"{value:.1f}%"


def _text(metadata: Mapping[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _file_name(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    path = urlsplit(url).path.rstrip("/")
    name = unquote(path.rsplit("/", 1)[-1])
    return name or None


def _label(segment: Segment, track: Track) -> str:
    m = segment.metadata
    if track.track_type == TrackType.TEXT:
        text = _text(m, "text") or _text(m, "title") or _text(m, "name")
        if text is not None:
            return f'"{text}"'
    return (
        _text(m, "name")
        or _text(m, "text")
        or _text(m, "title")
        or _file_name(m.get("url"))
        or track_words(track).kind
    )


def format_segment(segment: Segment, track: Track, span: tuple[float, float]) -> str:
    """One segment as the timeline shows it: ``Lo-fi (0-10s, 35%)``.

    ``span`` is the segment's ``(start_ms, end_ms)``, from :meth:`Track.segment_spans`.
    """
    start, end = span
    details = f"{_seconds(start)}-{_seconds(end)}s"
    volume = segment.metadata.get("volume")
    if (
        track.track_type == TrackType.AUDIO
        and isinstance(volume, (int, float))
        and not isinstance(volume, bool)
    ):
        details += f", {_percent(volume)}"
    return f"{_label(segment, track)} ({details})"


def _format_segments(track: Track) -> str:
    if not track.segments:
        return "(empty)"
    spans = track.segment_spans()
    return ", ".join(
        format_segment(s, track, span) for s, span in zip(track.segments, spans, strict=True)
    )


def format_timeline(draft: Draft | None) -> str:
    """The draft on one line, in the seed skill's track summary format (see the module doc)."""
    tracks = draft.tracks if draft is not None else []
    head = f"Timeline ({len(tracks)} {'track' if len(tracks) == 1 else 'tracks'})"
    if not tracks:
        return head
    entries = [
        f"{i}. {track_words(t).kind}: {_format_segments(t)}" for i, t in enumerate(tracks, 1)
    ]
    return f"{head}: {' '.join(entries)}"


@attrs.frozen
class TrackDiff:
    """Changes inside a track present in both drafts."""

    index: int
    """Position of the track in the later draft (0-based)."""
    before: Track
    after: Track
    added_segments: tuple[Segment, ...] = ()
    removed_segments: tuple[Segment, ...] = ()
    changed_segments: tuple[tuple[Segment, Segment], ...] = ()
    """``(before, after)`` pairs: a segment edited in place."""
    changed_keys: tuple[str, ...] = ()
    """Track-level wire keys (other than ``sg``) whose value changed."""


@attrs.frozen
class DraftDiff:
    """What changed from one draft to the next (see :func:`diff_drafts`)."""

    added_tracks: tuple[Track, ...] = ()
    removed_tracks: tuple[Track, ...] = ()
    changed_tracks: tuple[TrackDiff, ...] = ()
    duration: tuple[float | None, float | None] | None = None
    """``(before, after)`` of the draft's ``d`` when it changed."""
    metadata: Mapping[str, tuple[Any, Any]] = attrs.field(factory=dict)
    """Draft ``m`` keys that changed: key -> ``(before, after)``; ``None`` stands for absent."""
    changed_keys: tuple[str, ...] = ()
    """Other draft-level wire keys (not ``t``, ``d``, ``m``) whose value changed."""

    @property
    def changed(self) -> bool:
        """Whether anything differs."""
        return bool(
            self.added_tracks
            or self.removed_tracks
            or self.changed_tracks
            or self.duration
            or self.metadata
            or self.changed_keys
        )

    def summary(self) -> str:
        """A short sentence per change, joined by ``"; "``; ``"No changes"`` when none.

        E.g. ``Added BGM track: Lo-fi (0-10s, 35%); Added title: "Paradise Found" (0-3s)``.
        """
        parts = [f"Removed {_track_phrase(t)}" for t in self.removed_tracks]
        parts += [f"Added {_track_phrase(t)}" for t in self.added_tracks]
        for change in self.changed_tracks:
            parts += _track_change_phrases(change)
        if self.duration is not None:
            parts.append(_duration_phrase(*self.duration))
        if self.metadata:
            items = ", ".join(
                f"{key} {_value(old)} → {_value(new)}" for key, (old, new) in self.metadata.items()
            )
            parts.append(f"Changed metadata: {items}")
        if self.changed_keys:
            parts.append(f"Changed draft fields: {', '.join(self.changed_keys)}")
        return "; ".join(parts) if parts else "No changes"


def _duration_phrase(before: float | None, after: float | None) -> str:
    if after is None:
        return f"Duration removed (was {_seconds(before or 0)}s)"
    if before is None:
        return f"Duration: {_seconds(after)}s"
    return f"Duration: {_seconds(before)}s → {_seconds(after)}s"


def _value(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def _track_phrase(track: Track) -> str:
    """``BGM track: Lo-fi (0-10s, 35%)``; a one-title text track is ``title: "X" (0-3s)``."""
    noun = track_words(track).track_noun
    if track.track_type == TrackType.TEXT and len(track.segments) == 1:
        noun = "title"
    return f"{noun}: {_format_segments(track)}"


def _track_change_phrases(change: TrackDiff) -> list[str]:
    noun = track_words(change.after).segment_noun
    before_spans = dict(
        zip(map(id, change.before.segments), change.before.segment_spans(), strict=True)
    )
    after_spans = dict(
        zip(map(id, change.after.segments), change.after.segment_spans(), strict=True)
    )

    def before(seg: Segment) -> str:
        return format_segment(seg, change.before, before_spans.get(id(seg), (0, 0)))

    def after(seg: Segment) -> str:
        return format_segment(seg, change.after, after_spans.get(id(seg), (0, 0)))

    parts = [f"Removed {noun}: {before(s)}" for s in change.removed_segments]
    parts += [f"Added {noun}: {after(s)}" for s in change.added_segments]
    for old, new in change.changed_segments:
        old_text, new_text = before(old), after(new)
        if old_text != new_text:
            parts.append(f"Changed {noun}: {old_text} → {new_text}")
        else:
            paths = _changed_paths(old.to_wire(), new.to_wire())
            same_place = before_spans.get(id(old)) == after_spans.get(id(new))
            if same_place and set(paths) <= {"s", "d"}:
                continue  # its place, now written out (e.g. ``s`` added): nothing to name
            parts.append(f"Changed {noun}: {new_text} ({', '.join(paths)})")
    if change.changed_keys:
        keys = ", ".join(change.changed_keys)
        parts.append(f"Changed {track_words(change.after).track_noun} {change.index + 1}: {keys}")
    return parts


def _changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Keys whose value differs, one level into ``m`` (``m.color``)."""
    paths = []
    for key in _union_keys(old, new):
        a, b = old.get(key), new.get(key)
        if a == b and (key in old) == (key in new):
            continue
        if key == "m" and isinstance(a, Mapping) and isinstance(b, Mapping):
            paths += [f"m.{k}" for k in _changed_paths(a, b)]
        else:
            paths.append(key)
    return paths


def _union_keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _content(model: Segment | Track) -> str:
    # Key order carries no meaning: compare segments and tracks by content.
    return json.dumps(model.to_wire(), sort_keys=True, ensure_ascii=False)


def _align(
    before: Sequence[Hashable], after: Sequence[Hashable]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[int], list[int]]:
    """Pair items of two sequences by their keys: ``(equal, changed, removed, added)`` indexes.

    Identical items are aligned first (longest matching runs, like ``diff``);
    in a stretch that differs, items pair up by position as "changed" and the
    surplus on either side counts as removed or added.
    """
    equal: list[tuple[int, int]] = []
    changed: list[tuple[int, int]] = []
    removed: list[int] = []
    added: list[int] = []
    matcher = difflib.SequenceMatcher(a=list(before), b=list(after), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            equal += zip(range(i1, i2), range(j1, j2), strict=True)
            continue
        common = min(i2 - i1, j2 - j1)
        changed += zip(range(i1, i1 + common), range(j1, j1 + common), strict=True)
        removed += range(i1 + common, i2)
        added += range(j1 + common, j2)
    return equal, changed, removed, added


def _diff_track(index: int, before: Track, after: Track) -> TrackDiff | None:
    old, new = before.segments, after.segments
    _, changed, removed, added = _align([*map(_content, old)], [*map(_content, new)])
    old_wire, new_wire = before.to_wire(), after.to_wire()
    for wire in (old_wire, new_wire):
        wire.pop("sg", None)
    keys = tuple(_changed_paths(old_wire, new_wire))
    if not (changed or removed or added or keys):
        return None
    return TrackDiff(
        index=index,
        before=before,
        after=after,
        added_segments=tuple(new[j] for j in added),
        removed_segments=tuple(old[i] for i in removed),
        changed_segments=tuple((old[i], new[j]) for i, j in changed),
        changed_keys=keys,
    )


def diff_drafts(before: Draft | None, after: Draft | None) -> DraftDiff:
    """What changed from ``before`` to ``after`` (``None`` reads as an empty draft).

    Tracks are matched within their type (``tt``), in order: the tracks of one
    type in ``before`` are aligned with those of the same type in ``after``,
    identical tracks first, the rest by position (the n-th remaining BGM track
    before is the n-th remaining BGM track after); unmatched ones are added or
    removed. Segments of matched tracks are aligned the same way by content
    (every field, key order ignored): a segment edited in place is "changed",
    others are added or removed.
    """
    old = before if before is not None else Draft()
    new = after if after is not None else Draft()

    added: list[int] = []
    removed: list[int] = []
    pairs: list[tuple[int, int]] = []
    for tt in dict.fromkeys(t.track_type for t in [*old.tracks, *new.tracks]):
        old_idx = [i for i, t in enumerate(old.tracks) if t.track_type == tt]
        new_idx = [j for j, t in enumerate(new.tracks) if t.track_type == tt]
        equal, changed, gone, extra = _align(
            [_content(old.tracks[i]) for i in old_idx],
            [_content(new.tracks[j]) for j in new_idx],
        )
        pairs += [(old_idx[a], new_idx[b]) for a, b in [*equal, *changed]]
        removed += [old_idx[a] for a in gone]
        added += [new_idx[b] for b in extra]

    track_diffs = []
    for i, j in sorted(pairs, key=lambda pair: pair[1]):
        track_diff = _diff_track(j, old.tracks[i], new.tracks[j])
        if track_diff is not None:
            track_diffs.append(track_diff)

    duration = None
    if old.duration_ms != new.duration_ms:
        duration = (old.duration_ms, new.duration_ms)
    metadata = {
        key: (old.metadata.get(key), new.metadata.get(key))
        for key in _union_keys(old.metadata, new.metadata)
        if old.metadata.get(key) != new.metadata.get(key)
        or (key in old.metadata) != (key in new.metadata)
    }
    old_rest, new_rest = old.to_wire(), new.to_wire()
    for wire in (old_rest, new_rest):
        for key in ("t", "d", "m"):  # reported above
            wire.pop(key, None)
    other = _changed_paths(old_rest, new_rest)

    return DraftDiff(
        added_tracks=tuple(new.tracks[j] for j in sorted(added)),
        removed_tracks=tuple(old.tracks[i] for i in sorted(removed)),
        changed_tracks=tuple(track_diffs),
        duration=duration,
        metadata=metadata,
        changed_keys=tuple(other),
    )
