"""Draft wire models: lossless round-trip, aliases, track types, helpers; session state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemo_sdk.models.draft import Draft, Segment, Track, TrackType
from nemo_sdk.models.state import CanvasConfig, SessionState


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def assert_identical(got: Any, want: Any, path: str = "$") -> None:
    """Same values, same types (int is not float, bool is not int), same key order, everywhere."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got.items()) == list(want.items()), f"{path}: items differ"
        assert list(got) == list(want), f"{path}: key order {list(got)} != {list(want)}"
        for key in want:
            assert_identical(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{path}: length"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_identical(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert repr(got) == repr(want), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def assert_round_trip(wire: dict[str, Any]) -> Draft:
    draft = Draft.model_validate(wire)
    assert_identical(draft.model_dump(by_alias=True), wire)
    assert_identical(draft.to_wire(), wire)
    assert draft.model_dump_json(by_alias=True) == compact(wire)
    from_text = Draft.model_validate_json(compact(wire))
    assert from_text.model_dump_json(by_alias=True) == compact(wire)
    # A second pass changes nothing either.
    assert Draft.model_validate(draft.to_wire()).model_dump_json(by_alias=True) == compact(wire)
    return draft


# Keys deliberately out of the declared order, unknown keys at every level,
# nulls, booleans, floats pydantic-core would print differently (1e-05), unicode.
RICH: dict[str, Any] = {
    "v": 3,
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 29.97, "tags": []},
    "id": "draft_01",
    "t": [
        {
            "sg": [
                {
                    "m": {
                        "url": "https://cdn.example/clip%201.mp4?sig=a&b=1",
                        "src_in": 1500,
                        "name": "city timelapse",
                        "fx": {"lut": None, "grain": 0.35, "curve": [0, 0.5, 1.0]},
                    },
                    "d": 10000,
                    "id": "seg_1",
                    "locked": False,
                    "tiny": 1e-05,
                    "exp": 1.5e-07,
                    "big": 12345678901234567890123,
                },
                {"d": 2500.5, "s": 10000, "m": {}, "transition": {"type": "fade", "d": 500}},
            ],
            "tt": 0,
            "muted": True,
            "name": "Main",
        },
        {
            "tt": 1,
            "id": "bgm",
            "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.35, "fade_out": None}}],
        },
        {
            "tt": 7,
            "sg": [
                {
                    "m": {"text": '都市の夢 — «Urban» "Dreams" 🌆\n', "style": {"color": "#fff"}},
                    "s": 0,
                    "d": 3000,
                    "anim": ["fade-in", {"ms": 300}],
                }
            ],
            "extra_null": None,
        },
        {"tt": 42, "sg": [], "future": {"nested": [[], {}]}},
    ],
    "d": 12500.5,
    "schema": None,
}


def test_rich_draft_round_trips_exactly() -> None:
    draft = assert_round_trip(RICH)
    assert len(draft.tracks) == 4
    assert draft.duration_ms == 12500.5
    assert draft.metadata["title"] == "Urban Dreams"
    assert draft.tracks[0].segments[0].metadata["src_in"] == 1500
    assert draft.model_extra == {"v": 3, "id": "draft_01", "schema": None}


def test_small_floats_written_as_python_json_does() -> None:
    # pydantic-core alone writes 1e-05 as 0.00001: the reason model_dump_json is overridden.
    assert Draft.model_validate({"d": 1e-05}).model_dump_json(by_alias=True) == '{"d":1e-05}'
    assert Draft.model_validate({"x": 1.5e-07}).model_dump_json(by_alias=True) == '{"x":1.5e-07}'


def test_validate_json_round_trips_exactly() -> None:
    text = compact(RICH)
    assert Draft.model_validate_json(text).model_dump_json(by_alias=True) == text


def test_indent_matches_json_dumps() -> None:
    draft = Draft.model_validate(RICH)
    assert draft.model_dump_json(by_alias=True, indent=2) == json.dumps(
        RICH, indent=2, ensure_ascii=False
    )


def test_absent_fields_are_not_emitted_and_nulls_are_kept() -> None:
    assert_round_trip({})
    assert_round_trip({"t": []})
    assert_round_trip({"t": None, "d": None, "m": None})
    assert_round_trip({"t": [{"sg": None, "tt": None}, {}]})
    assert_round_trip({"t": [{"sg": [{}, {"m": None, "s": None, "d": None}]}]})
    draft = Draft.model_validate({"t": None, "m": None})
    # null reads as empty in Python, and goes back as null
    assert draft.tracks == []
    assert draft.metadata == {}


def test_null_list_written_as_list_once_filled() -> None:
    draft = Draft.model_validate({"t": None, "x": 1})
    draft.tracks.append(Track.video([Segment(duration_ms=1000)]))
    assert_identical(draft.to_wire(), {"t": [{"tt": 0, "sg": [{"d": 1000}]}], "x": 1})


def test_readable_names_build_compact_wire() -> None:
    draft = Draft(
        tracks=[
            Track.video([Segment(duration_ms=10000, metadata={"url": "a.mp4"})]),
            Track(track_type=TrackType.AUDIO, segments=[Segment(d=10000, m={"volume": 0.35})]),
        ],
        metadata={"title": "x"},
    )
    want = {
        "t": [
            {"tt": 0, "sg": [{"d": 10000, "m": {"url": "a.mp4"}}]},
            {"tt": 1, "sg": [{"d": 10000, "m": {"volume": 0.35}}]},
        ],
        "m": {"title": "x"},
    }
    assert_identical(draft.to_wire(), want)
    assert draft.model_dump_json(by_alias=True) == compact(want)
    assert_identical(
        draft.model_dump(),
        {
            "tracks": [
                {
                    "track_type": 0,
                    "segments": [{"duration_ms": 10000, "metadata": {"url": "a.mp4"}}],
                },
                {
                    "track_type": 1,
                    "segments": [{"duration_ms": 10000, "metadata": {"volume": 0.35}}],
                },
            ],
            "metadata": {"title": "x"},
        },
    )
    # by readable name from a dict, too
    assert Draft.model_validate({"tracks": [{"segments": [{"duration_ms": 5}]}]}).to_wire() == {
        "t": [{"sg": [{"d": 5}]}]
    }


def test_no_none_noise_for_fresh_models() -> None:
    assert Segment().to_wire() == {}
    assert Track().to_wire() == {}
    assert Draft().to_wire() == {}
    assert Segment(duration_ms=3).model_dump_json(by_alias=True) == '{"d":3}'


def test_fields_set_later_are_written_after_the_received_ones() -> None:
    draft = Draft.model_validate({"x": 1, "t": [], "y": 2})
    draft.metadata = {"title": "new"}
    draft.duration_ms = 5000
    draft.z = 3  # type: ignore[attr-defined]  # an unknown field added by the caller
    # new fields in declared order, then new unknown fields
    assert_identical(
        draft.to_wire(), {"x": 1, "t": [], "y": 2, "d": 5000, "m": {"title": "new"}, "z": 3}
    )
    draft.duration_ms = None  # set explicitly: written as null
    assert draft.to_wire()["d"] is None


def test_readable_name_next_to_its_compact_key_is_an_unknown_field() -> None:
    wire = {"t": [{"tt": 0, "segments": "theirs", "sg": []}], "tracks": [1], "m": {}, "metadata": 2}
    draft = assert_round_trip(wire)
    assert draft.tracks[0].segments == []
    assert draft.model_extra == {"tracks": [1], "metadata": 2}


def test_readable_and_compact_names_mix() -> None:
    segment = Segment(d=1000, metadata={"url": "a.mp4"})
    assert segment.metadata == {"url": "a.mp4"}
    assert_identical(segment.to_wire(), {"d": 1000, "m": {"url": "a.mp4"}})
    draft = Draft.model_validate({"t": [{"segments": [{"s": 5, "duration_ms": 7}]}], "d": 1})
    assert_identical(draft.to_wire(), {"t": [{"sg": [{"s": 5, "d": 7}]}], "d": 1})


def test_track_type_enum_and_unknown_values() -> None:
    draft = Draft.model_validate({"t": [{"tt": 0}, {"tt": 1}, {"tt": 7}, {"tt": 42}, {"tt": -1}]})
    types = [t.track_type for t in draft.tracks]
    assert types == [TrackType.VIDEO, TrackType.AUDIO, TrackType.TEXT, 42, -1]
    assert isinstance(types[0], TrackType)
    assert not isinstance(types[3], TrackType)
    assert type(types[3]) is int
    dumped = draft.to_wire()
    # plain ints on the way out, not the IntEnum
    assert [type(t["tt"]) for t in dumped["t"]] == [int] * 5
    assert dumped == {"t": [{"tt": 0}, {"tt": 1}, {"tt": 7}, {"tt": 42}, {"tt": -1}]}


def test_wrong_types_still_fail_validation() -> None:
    with pytest.raises(ValueError):
        Draft.model_validate({"t": [{"tt": "video"}]})
    with pytest.raises(ValueError):
        Draft.model_validate({"t": "nope"})


@pytest.mark.parametrize(
    ("wire", "exportable"),
    [
        ({}, False),
        ({"t": None}, False),
        ({"t": []}, False),
        ({"t": [{"tt": 0}]}, False),
        ({"t": [{"tt": 0, "sg": []}, {"tt": 1, "sg": None}]}, False),
        ({"t": [{"tt": 0, "sg": []}, {"tt": 7, "sg": [{"d": 3000}]}]}, True),
        ({"t": [{"sg": [{}]}]}, True),
    ],
)
def test_is_exportable(wire: dict[str, Any], exportable: bool) -> None:
    assert Draft.model_validate(wire).is_exportable is exportable


def test_end_ms_and_segment_spans() -> None:
    assert Draft().end_ms == 0
    assert Draft.model_validate({"t": [{"sg": []}]}).end_ms == 0
    draft = Draft.model_validate(
        {
            "d": 99999,  # declared duration does not drive the computed end
            "t": [
                {"tt": 0, "sg": [{"d": 4000}, {"d": 6000}, {"s": 20000, "d": 1000}, {"d": 500}]},
                {"tt": 1, "sg": [{"s": 1000, "d": 25000}]},
                {"tt": 7, "sg": [{"m": {"text": "no duration"}}]},
            ],
        }
    )
    assert draft.tracks[0].segment_spans() == [
        (0, 4000),
        (4000, 10000),
        (20000, 21000),
        (21000, 21500),
    ]
    assert draft.tracks[2].segment_spans() == [(0, 0)]
    assert draft.end_ms == 26000
    draft.tracks[1].segments.clear()
    assert draft.end_ms == 21500


def test_equality_ignores_key_order_but_not_content() -> None:
    a = Draft.model_validate({"d": 1, "t": [{"tt": 0, "sg": [{"d": 5, "m": {"a": 1, "b": 2}}]}]})
    b = Draft.model_validate({"t": [{"sg": [{"m": {"b": 2, "a": 1}, "d": 5}], "tt": 0}], "d": 1})
    c = Draft.model_validate({"t": [{"sg": [{"m": {"b": 2, "a": 1}, "d": 6}], "tt": 0}], "d": 1})
    assert a == b
    assert a != c
    assert a.tracks[0] == b.tracks[0]


def test_copies_keep_wire_order() -> None:
    draft = Draft.model_validate(RICH)
    assert draft.model_copy(deep=True).model_dump_json(by_alias=True) == compact(RICH)


# ---- hypothesis: random drafts --------------------------------------------------------

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)
ms = (
    st.none()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
)
metadata = st.none() | st.dictionaries(text, json_values, max_size=4)


def wire_object(
    declared: dict[str, st.SearchStrategy[Any]], names: dict[str, str]
) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object with a random subset of the compact keys, unknown keys, in random order.

    ``names`` maps each compact key to its readable name; a readable name appears
    as an unknown key only next to its compact key, where it is an unknown field.
    """

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = {key: draw(strategy) for key, strategy in declared.items() if draw(st.booleans())}
        reserved = set(declared) | set(names.values())
        shadowing = [names[key] for key in chosen]  # readable names allowed as unknown keys
        extra_keys = text.filter(lambda k: k not in reserved)
        if shadowing:
            extra_keys |= st.sampled_from(shadowing)
        extras = draw(st.dictionaries(extra_keys, json_values, max_size=3))
        items = draw(st.permutations([*chosen.items(), *extras.items()]))
        return dict(items)

    return build()


segments = wire_object(
    {"d": ms, "s": ms, "m": metadata}, {"d": "duration_ms", "s": "start_ms", "m": "metadata"}
)
track_types = st.none() | st.sampled_from([0, 1, 7]) | st.integers(min_value=-3, max_value=2**40)
tracks = wire_object(
    {"tt": track_types, "sg": st.none() | st.lists(segments, max_size=3)},
    {"tt": "track_type", "sg": "segments"},
)
drafts = wire_object(
    {"t": st.none() | st.lists(tracks, max_size=3), "d": ms, "m": metadata},
    {"t": "tracks", "d": "duration_ms", "m": "metadata"},
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drafts)
def test_random_drafts_round_trip_exactly(wire: dict[str, Any]) -> None:
    assert_round_trip(wire)


def shuffled(value: Any, rnd: Any) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        items = [(k, shuffled(v, rnd)) for k, v in value.items()]
        rnd.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


@settings(max_examples=100, deadline=None)
@given(drafts, st.randoms(use_true_random=False))
def test_random_drafts_equal_whatever_the_key_order(wire: dict[str, Any], rnd: Any) -> None:
    other = shuffled(wire, rnd)
    assert Draft.model_validate(wire) == Draft.model_validate(other)
    # ... and each still writes back its own order
    assert Draft.model_validate(other).model_dump_json(by_alias=True) == compact(other)


# ---- session state ---------------------------------------------------------------------


STATE: dict[str, Any] = {
    "session_id": "s_1",
    "draft": {"t": [{"tt": 0, "sg": [{"d": 10000, "m": {"url": "a.mp4"}}]}], "zz": 1},
    "video_infos": [{"url": "a.mp4", "duration": 10.0}],
    "canvas_config": {"aspectRatio": "9:16", "width": 1080, "height": 1920, "bg": "#000"},
    "generated_media": {"videos": []},
    "video_analyses": None,
    "more": {"x": [1, 2]},
}


def test_state_from_api_answer() -> None:
    state = SessionState.from_api({"state": STATE, "user_id": "anon_abc"})
    assert state.draft is not None
    assert state.draft.is_exportable
    assert state.video_infos == [{"url": "a.mp4", "duration": 10.0}]
    assert state.generated_media == {"videos": []}
    assert state.video_analyses is None
    assert state.canvas_config == CanvasConfig(
        width=1080, height=1920, aspect_ratio="9:16", bg="#000"
    )
    assert state.canvas_config is not None
    assert state.canvas_config.aspect_ratio == "9:16"
    assert state.user_id == "anon_abc"
    assert state.model_extra == {"session_id": "s_1", "more": {"x": [1, 2]}}
    # the state itself goes back as it came (plus the user id lifted from the answer)
    assert_identical(state.to_wire(), {**STATE, "user_id": "anon_abc"})


def test_state_from_bare_state_and_envelope() -> None:
    bare = SessionState.from_api(STATE)
    assert_identical(bare.to_wire(), STATE)
    assert bare.user_id is None
    enveloped = SessionState.from_api({"code": 0, "message": "ok", "data": {"state": STATE}})
    assert enveloped == bare


def test_state_user_id_inside_state_wins() -> None:
    state = SessionState.from_api({"state": {"user_id": "anon_in"}, "user_id": "anon_out"})
    assert state.user_id == "anon_in"


def test_state_tolerates_missing_draft_and_draft_as_text() -> None:
    assert SessionState.from_api({"state": {}}).draft is None
    assert SessionState.from_api({"state": {"draft": None}}).draft is None
    state = SessionState.from_api({"state": {"draft": json.dumps(STATE["draft"])}})
    assert state.draft is not None
    assert state.draft.to_wire() == STATE["draft"]


@pytest.mark.parametrize("key", ["aspect_ratio", "aspectRatio", "ratio", "aspect"])
def test_canvas_aspect_ratio_spellings(key: str) -> None:
    wire = {"width": 1920, key: "16:9", "height": 1080}
    canvas = CanvasConfig.model_validate(wire)
    assert canvas.aspect_ratio == "16:9"
    assert (canvas.width, canvas.height) == (1920, 1080)
    assert_identical(canvas.to_wire(), wire)  # written back under the key it came in
