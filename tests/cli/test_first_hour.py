"""Rough edges a new user meets in the ``nemo`` command (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk.emulator import Emulator

from .conftest import Nemo, doc, invoke, ok


def test_an_edit_and_an_export_in_one_line_does_both_in_order(
    nemo: Nemo, nemo_emulator: Emulator, session_with_video: str, tmp_path: Path
) -> None:
    out = tmp_path / "with-music.mp4"
    result = ok(
        nemo("--json", "chat", session_with_video, "-o", str(out), "-m", "add music and export")
    )
    turns = doc(result)["turns"]
    assert [t["action"] for t in turns] == ["chat", "export"]
    assert turns[0]["draft_changed"] is True
    assert out.exists()
    (render,) = nemo_emulator.renders.values()
    assert any(track.get("tt") == 1 for track in render.draft["t"])  # the music was exported


def test_uploading_a_missing_file_says_so_and_the_session_goes_on(
    nemo: Nemo, nemo_emulator: Emulator
) -> None:
    sid = ok(nemo("sessions", "create")).stdout.strip()
    result = nemo("chat", sid, input="upload /nonexistent.mp4\ncredits\n")
    assert "no such file: /nonexistent.mp4" in result.stderr
    assert "credits: 1000 available" in result.stdout  # the next line still ran
    assert result.exit_code == 2  # piped input: the first failure is the exit status
    assert nemo_emulator.count("upload") == 0


@pytest.mark.nemo_emulator(starting_credits=100)
def test_the_chat_goes_on_after_an_api_error(nemo: Nemo) -> None:
    sid = ok(nemo("sessions", "create")).stdout.strip()
    lines = "generate a kite\ngenerate a boat\nstatus\n"  # the second is out of credits
    result = nemo("chat", sid, input=lines)
    assert "error:" in result.stderr and "credits" in result.stderr
    assert "Timeline (1 track): 1. Video: kite" in result.stdout  # status still ran
    assert result.exit_code == 5


def test_usage_errors_honour_json() -> None:
    result = invoke("--json", "generate")  # the prompt is missing
    assert result.exit_code == 2
    error = doc(result)["error"]
    assert error["exit_code"] == 2 and error["type"] == "UsageError"
    assert "PROMPT" in error["message"]


def test_the_authentication_error_speaks_of_options_not_arguments(nemo: Nemo) -> None:
    result = nemo("--token", "nmv_usr_not_a_real_token", "credits")
    assert result.exit_code == 4
    assert "allow_anonymous_reauth" not in result.stderr
    assert "(argument or NEMO_TOKEN)" not in result.stderr
    assert "--token" in result.stderr


def test_the_resume_hint_keeps_the_users_output_path() -> None:
    from nemo_sdk.cli.runtime import Settings, Tracker, resume_hint

    hint = resume_hint(Settings(), Tracker(session_id="ses_1", out=Path("cut.mp4")))
    assert hint is not None and "-o cut.mp4" in hint
    hint = resume_hint(Settings(), Tracker(session_id="ses_1", target=Path("x/fox.mp4")))
    assert hint is not None and "-o x/fox.mp4" in hint
