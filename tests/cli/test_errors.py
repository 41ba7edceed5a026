"""Failures: one line, the documented exit code, a traceback only with ``--debug``."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk.cli.exits import EXIT_CODES, ExitCode
from nemo_sdk.emulator import Emulator

from .conftest import Nemo, doc, invoke, ok


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


@pytest.mark.nemo_emulator(starting_credits=0)
def test_out_of_credits_exits_5_with_the_register_link(nemo: Nemo) -> None:
    sid = ok(nemo("sessions", "create")).stdout.strip()
    result = nemo("chat", sid, "-m", "generate a cat")
    assert result.exit_code == ExitCode.CREDITS == 5
    (line,) = error_lines(result.stderr)
    assert "register?bind=anon_" in line
    assert "code 2001" in line
    assert "Traceback" not in result.output


@pytest.mark.nemo_emulator(starting_credits=0)
def test_out_of_credits_json_error_document(nemo: Nemo, tmp_path: Path) -> None:
    result = nemo("--json", "generate", "a cat", "-o", str(tmp_path / "cat.mp4"))
    assert result.exit_code == 5
    error = doc(result)["error"]
    assert error["type"] == "InsufficientCreditsError"
    assert error["code"] == 2001
    assert error["exit_code"] == 5
    assert "register?bind=anon_" in error["register_url"]
    assert not (tmp_path / "cat.mp4").exists()


def test_missing_session_exits_7(nemo: Nemo) -> None:
    result = nemo("state", "ses_missing")
    assert result.exit_code == ExitCode.NOT_FOUND == 7
    assert result.stdout == ""
    (line,) = error_lines(result.stderr)
    assert "session not found" in line and "code 1002" in line
    assert "Traceback" not in result.stderr


def test_missing_render_exits_7(nemo: Nemo) -> None:
    assert nemo("renders", "wait", "render_nope").exit_code == 7


def test_debug_shows_the_traceback(nemo: Nemo) -> None:
    result = nemo("--debug", "state", "ses_missing")
    assert result.exit_code == 7
    assert "Traceback (most recent call last)" in result.stderr
    assert "SessionNotFoundError" in result.stderr


@pytest.mark.nemo_emulator(anonymous_scopes=("read", "write", "upload"))
def test_export_blocked_exits_6(nemo: Nemo, session_with_video: str, tmp_path: Path) -> None:
    result = nemo("export", session_with_video, "-o", str(tmp_path / "x.mp4"))
    assert result.exit_code == ExitCode.EXPORT_BLOCKED == 6
    (line,) = error_lines(result.stderr)
    assert "NEMO_TOKEN" in line


def test_expired_token_exits_4(nemo: Nemo, nemo_emulator: Emulator) -> None:
    # A token the user gave is never swapped for an anonymous one: 1001 is final.
    result = nemo("--token", "nmv_usr_not_a_real_token", "credits")
    assert result.exit_code == ExitCode.AUTH == 4
    assert "nmv_usr_not_a_real_token" not in result.output


def test_server_error_exits_3(nemo: Nemo, nemo_emulator: Emulator) -> None:
    nemo_emulator.faults.add("credits", "500", times=None)
    ok(nemo("sessions", "create"))  # the token first, so that only credits fails
    result = nemo("credits")
    assert result.exit_code == ExitCode.API_ERROR == 3


def test_unreachable_api_exits_8(tmp_path: Path) -> None:
    result = invoke("--api-url", "http://127.0.0.1:9", "--token", "nmv_x", "credits")
    assert result.exit_code == ExitCode.CONNECTION == 8
    assert len(error_lines(result.stderr)) == 1


def test_bad_input_exits_2_before_sending(
    nemo: Nemo, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    result = nemo("generate", "a cat", "--aspect", "wide", "-o", str(tmp_path / "c.mp4"))
    assert result.exit_code == ExitCode.USAGE == 2
    assert "aspect" in result.stderr
    assert nemo_emulator.count("chat") == 0
    assert invoke("no-such-command").exit_code == 2  # click's own usage errors


def test_help_documents_every_exit_code() -> None:
    text = ok(invoke("--help")).stdout
    for command in ("generate", "chat", "sessions", "upload", "export", "renders", "credits"):
        assert command in text
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code):>3}  {meaning}" in text
    assert set(EXIT_CODES) == set(ExitCode)
