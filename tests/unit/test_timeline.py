"""format_timeline and diff_drafts: the seed's summary format and change reports."""

from __future__ import annotations

from typing import Any

import pytest

from nemo_sdk.models.draft import Draft, Segment, Track
from nemo_sdk.timeline import DraftDiff, TrackWords, diff_drafts, format_timeline, track_words

VIDEO: dict[str, Any] = {
    "tt": 0,
    "sg": [{"d": 10000, "m": {"name": "city timelapse", "url": "https://c/x.mp4"}}],
}
BGM: dict[str, Any] = {
    "tt": 1,
    "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.35, "url": "lofi.mp3"}}],
}
TITLE: dict[str, Any] = {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams"}}]}


def draft(*tracks: dict[str, Any], **fields: Any) -> Draft:
    return Draft.model_validate({"t": list(tracks), **fields})


def test_seed_timeline_exactly() -> None:
    assert format_timeline(draft(VIDEO, BGM, TITLE)) == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


def test_empty_timelines() -> None:
    assert format_timeline(None) == "Timeline (0 tracks)"
    assert format_timeline(Draft()) == "Timeline (0 tracks)"
    assert format_timeline(draft({"tt": 0})) == "Timeline (1 track): 1. Video: (empty)"


@pytest.mark.parametrize(
    ("m", "label"),
    [
        ({"name": "N", "text": "T", "title": "Ti", "url": "u/f.mp4"}, "N"),
        ({"text": "T", "title": "Ti", "url": "u/f.mp4"}, "T"),
        ({"title": "Ti", "url": "u/f.mp4"}, "Ti"),
        ({"url": "https://cdn.x/a/my%20clip.mp4?sig=1#t"}, "my clip.mp4"),
        ({"name": "  ", "url": "https://cdn.x/"}, "Video"),  # blank name, no file name
        ({}, "Video"),
    ],
)
def test_segment_label_order(m: dict[str, Any], label: str) -> None:
    text = format_timeline(draft({"tt": 0, "sg": [{"d": 1000, "m": m}]}))
    assert text == f"Timeline (1 track): 1. Video: {label} (0-1s)"


def test_text_tracks_quote_the_text_first() -> None:
    both = {"tt": 7, "sg": [{"d": 3000, "m": {"name": "title-1", "text": "Hello"}}]}
    assert format_timeline(draft(both)).endswith('1. Title: "Hello" (0-3s)')
    titled = {"tt": 7, "sg": [{"d": 3000, "m": {"title": "Hi"}}]}
    assert format_timeline(draft(titled)).endswith('1. Title: "Hi" (0-3s)')
    bare = {"tt": 7, "sg": [{"d": 3000}]}
    assert format_timeline(draft(bare)).endswith("1. Title: Title (0-3s)")


def test_volume_only_on_audio_and_as_percent() -> None:
    audio = {
        "tt": 1,
        "sg": [
            {"d": 2000, "m": {"name": "a", "volume": 1}},
            {"d": 2000, "m": {"name": "b", "volume": 0.125}},
            {"d": 2000, "m": {"name": "c"}},
            {"d": 2000, "m": {"name": "d", "volume": True}},
        ],
    }
    video = {"tt": 0, "sg": [{"d": 1000, "m": {"name": "v", "volume": 0.5}}]}
    assert format_timeline(draft(audio, video)) == (
        "Timeline (2 tracks): 1. BGM: a (0-2s, 100%), b (2-4s, 12.5%), c (4-6s), d (6-8s) "
        "2. Video: v (0-1s)"
    )


def test_times_and_multi_segment_tracks() -> None:
    video = {
        "tt": 0,
        "sg": [
            {"d": 1500, "m": {"url": "a.mp4"}},
            {"d": 3333, "m": {"url": "b.mp4"}},
            {"s": 10000, "d": 2000.0, "m": {"url": "c.mp4"}},
            {"d": 9999, "m": {"url": "d.mp4"}},
        ],
    }
    assert format_timeline(draft(video)) == (
        "Timeline (1 track): 1. Video: a.mp4 (0-1.5s), b.mp4 (1.5-4.8s), c.mp4 (10-12s), "
        "d.mp4 (12-22s)"
    )


def test_unknown_track_type() -> None:
    assert format_timeline(draft({"tt": 42, "sg": [{"d": 1000}]})) == (
        "Timeline (1 track): 1. Track type 42: Track type 42 (0-1s)"
    )


@pytest.mark.parametrize(
    ("tt", "words"),
    [
        (0, TrackWords("Video", "video track", "video clip", "video")),
        (1, TrackWords("BGM", "BGM track", "BGM", "audio (BGM)")),
        (7, TrackWords("Title", "title track", "title", "text")),
        (None, TrackWords("Track", "track", "segment", "unknown")),
        (42, TrackWords("Track type 42", "track (type 42)", "segment (track type 42)", "type 42")),
    ],
)
def test_track_words(tt: int | None, words: TrackWords) -> None:
    # The timeline, the change summaries and the CLI's table all read this one table.
    assert track_words(Track.model_validate({"tt": tt})) == words


# ---- diffs -----------------------------------------------------------------------------


def test_no_change() -> None:
    before = draft(VIDEO, BGM, TITLE, d=10000, m={"title": "x"})
    diff = diff_drafts(before, before.model_copy(deep=True))
    assert not diff.changed
    assert diff == DraftDiff()
    assert diff.summary() == "No changes"
    assert diff_drafts(None, None).summary() == "No changes"
    assert not diff_drafts(None, Draft()).changed


def test_key_order_alone_is_no_change() -> None:
    before = draft(VIDEO, BGM)
    reordered = Draft.model_validate(
        {
            "t": [
                {
                    "sg": [{"m": {"url": "https://c/x.mp4", "name": "city timelapse"}, "d": 10000}],
                    "tt": 0,
                },
                BGM,
            ]
        }
    )
    assert not diff_drafts(before, reordered).changed


def test_added_bgm_and_title_summary() -> None:
    title = {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Paradise Found"}}]}
    diff = diff_drafts(draft(VIDEO), draft(VIDEO, BGM, title))
    assert diff.changed
    assert diff.summary() == (
        'Added BGM track: Lo-fi (0-10s, 35%); Added title: "Paradise Found" (0-3s)'
    )
    assert [t.track_type for t in diff.added_tracks] == [1, 7]
    assert diff.removed_tracks == ()
    assert diff.changed_tracks == ()


def test_from_nothing_everything_is_added() -> None:
    diff = diff_drafts(None, draft(VIDEO, BGM, TITLE))
    assert diff.summary() == (
        "Added video track: city timelapse (0-10s); Added BGM track: Lo-fi (0-10s, 35%); "
        'Added title: "Urban Dreams" (0-3s)'
    )


def test_removed_track() -> None:
    diff = diff_drafts(draft(VIDEO, BGM, TITLE), draft(VIDEO, TITLE))
    assert diff.summary() == "Removed BGM track: Lo-fi (0-10s, 35%)"
    assert diff.removed_tracks == (Track.model_validate(BGM),)


def test_changed_volume() -> None:
    louder: dict[str, Any] = {
        "tt": 1,
        "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.5, "url": "lofi.mp3"}}],
    }
    diff = diff_drafts(draft(VIDEO, BGM), draft(VIDEO, louder))
    assert diff.summary() == "Changed BGM: Lo-fi (0-10s, 35%) → Lo-fi (0-10s, 50%)"
    (change,) = diff.changed_tracks
    assert change.index == 1
    assert change.changed_segments == (
        (Segment.model_validate(BGM["sg"][0]), Segment.model_validate(louder["sg"][0])),
    )


def test_changed_field_not_shown_in_timeline_is_named() -> None:
    styled = {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams", "color": "white"}}]}
    diff = diff_drafts(draft(TITLE), draft(styled))
    assert diff.summary() == 'Changed title: "Urban Dreams" (0-3s) (m.color)'


def test_segments_added_and_removed_inside_a_track() -> None:
    two = {"tt": 0, "sg": [*VIDEO["sg"], {"d": 5000, "m": {"url": "https://c/b.mp4"}}]}
    diff = diff_drafts(draft(VIDEO), draft(two))
    assert diff.summary() == "Added video clip: b.mp4 (10-15s)"
    assert diff_drafts(draft(two), draft(VIDEO)).summary() == "Removed video clip: b.mp4 (10-15s)"
    # the first clip trimmed away: the second is unchanged in content, though it moved
    only_b = {"tt": 0, "sg": [{"d": 5000, "m": {"url": "https://c/b.mp4"}}]}
    assert diff_drafts(draft(two), draft(only_b)).summary() == (
        "Removed video clip: city timelapse (0-10s)"
    )


def test_tracks_matched_by_type_not_position() -> None:
    # A title inserted before the BGM track is an added title, not a changed BGM track.
    diff = diff_drafts(draft(VIDEO, BGM), draft(VIDEO, TITLE, BGM))
    assert diff.summary() == 'Added title: "Urban Dreams" (0-3s)'
    assert diff.changed_tracks == ()


def test_identical_tracks_aligned_before_position() -> None:
    voice = {"tt": 1, "sg": [{"d": 4000, "m": {"name": "voice", "volume": 1}}]}
    diff = diff_drafts(draft(VIDEO, BGM, voice), draft(VIDEO, voice))
    assert diff.summary() == "Removed BGM track: Lo-fi (0-10s, 35%)"


def test_track_level_and_draft_level_changes() -> None:
    muted = {**VIDEO, "muted": True}
    before = draft(VIDEO, d=10000, m={"title": "A", "width": 1920}, v=1)
    after = draft(muted, d=15000, m={"title": "B", "height": 1920}, v=2)
    diff = diff_drafts(before, after)
    assert diff.duration == (10000, 15000)
    assert dict(diff.metadata) == {
        "title": ("A", "B"),
        "width": (1920, None),
        "height": (None, 1920),
    }
    assert diff.changed_keys == ("v",)
    assert diff.summary() == (
        "Changed video track 1: muted; Duration: 10s → 15s; "
        'Changed metadata: title "A" → "B", width 1920 → (none), height (none) → 1920; '
        "Changed draft fields: v"
    )


def test_draft_removed_entirely() -> None:
    diff = diff_drafts(draft(TITLE, d=3000), None)
    assert diff.summary() == 'Removed title: "Urban Dreams" (0-3s); Duration removed (was 3s)'
