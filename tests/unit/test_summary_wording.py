"""A no-text reply's summary names what a person would call a change."""

from __future__ import annotations

from nemo_sdk import Draft
from nemo_sdk.timeline import diff_drafts

VIDEO = {"tt": 0, "sg": [{"d": 1000, "m": {"name": "city timelapse"}}]}


def test_a_start_written_out_is_not_a_change() -> None:
    before = Draft.from_wire({"t": [VIDEO]})
    after = Draft.from_wire(
        {
            "t": [
                {"tt": 0, "sg": [{"s": 0, "d": 1000, "m": {"name": "city timelapse"}}]},
                {"tt": 7, "sg": [{"s": 0, "d": 3000, "m": {"text": "Hi"}}]},
            ]
        }
    )
    summary = diff_drafts(before, after).summary()
    assert "Changed" not in summary, summary
    assert summary.startswith("Added title")


def test_a_real_change_is_still_named() -> None:
    before = Draft.from_wire({"t": [VIDEO]})
    after = Draft.from_wire({"t": [{"tt": 0, "sg": [{"s": 500, "d": 1000, "m": {}}]}]})
    assert "Changed" in diff_drafts(before, after).summary()
