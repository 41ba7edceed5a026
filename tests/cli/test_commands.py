"""Every command against the emulator, in human and ``--json`` form."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import pytest

from nemo_sdk import NemoClient
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.media import generate_clip

from .conftest import Nemo, doc, invoke, ok, run_sdk


def assert_playable(path: Path) -> None:
    with av.open(str(path)) as container:
        assert container.streams.video, f"{path} has no video stream"


# ---------------------------------------------------------------- generate


def test_generate_saves_a_playable_mp4(nemo: Nemo, tmp_path: Path) -> None:
    out = tmp_path / "fox.mp4"
    result = ok(nemo("generate", "a red fox in the snow", "-o", str(out)))
    assert_playable(out)
    assert f"saved {out}" in result.stdout
    assert "Timeline (1 track): 1. Video:" in result.stdout
    assert "render" in result.stderr  # the progress lines went to stderr


def test_generate_json(nemo: Nemo, tmp_path: Path) -> None:
    out = tmp_path / "sunset.mp4"
    result = ok(nemo("--json", "generate", "a sunset", "-o", str(out), "--aspect", "9:16"))
    answer = doc(result)
    assert answer["path"] == str(out)
    assert answer["render_id"].startswith("render_")
    assert answer["session_id"]
    assert answer["status"] == "completed"
    assert answer["credits_spent"] == 100
    assert answer["timeline"].startswith("Timeline (1 track)")
    assert_playable(out)


def test_generate_with_the_embedded_emulator(tmp_path: Path) -> None:
    out = tmp_path / "offline.mp4"
    result = ok(invoke("--emulator", "--json", "generate", "a lighthouse", "-o", str(out)))
    assert doc(result)["path"] == str(out)
    assert "embedded emulator" in result.stderr
    assert_playable(out)


def test_generate_refuses_an_existing_file_before_sending(
    nemo: Nemo, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "taken.mp4"
    out.write_bytes(b"mine")
    result = nemo("generate", "a cat", "-o", str(out))
    assert result.exit_code == 2
    assert "--overwrite" in result.stderr
    assert out.read_bytes() == b"mine"
    assert nemo_emulator.requests == []


# ---------------------------------------------------------------- sessions and chat


def test_sessions_create_then_chat_in_it(nemo: Nemo, nemo_emulator: Emulator) -> None:
    created = ok(nemo("--json", "sessions", "create", "--language", "ja"))
    sid = doc(created)["session_id"]
    assert doc(created)["language"] == "ja"
    result = ok(nemo("chat", sid, "-m", "generate a blue whale"))
    assert "blue whale" in result.stdout  # the agent's text, streamed
    assert "generate_video" in result.stderr  # the tool call, dimmed, on stderr
    assert "type 'export'" in result.stderr  # the reply said "Click Export"
    # The second command reused the first one's anonymous token (one per client id).
    assert nemo_emulator.count("token") == 1


@pytest.mark.slow
def test_chat_interactive_routes_actions_without_a_turn(
    nemo: Nemo, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    sid = ok(nemo("sessions", "create")).stdout.strip()
    lines = "credits\ngenerate a paper boat\n\nstatus\nadd a title 'Ahoy' for 2 s\nexport\n/quit\n"
    out = tmp_path / "boat.mp4"
    result = ok(nemo("chat", sid, "-o", str(out), input=lines))
    assert "credits: 1000 available" in result.stdout
    assert "paper boat" in result.stdout
    assert "Timeline (1 track): 1. Video: paper boat" in result.stdout
    assert f"saved {out}" in result.stdout
    assert nemo_emulator.count("chat") == 2  # credits, status and export ran directly
    assert_playable(out)


def test_chat_without_a_session_makes_one_and_ends_at_eof(nemo: Nemo) -> None:
    result = ok(nemo("--json", "chat", input="generate a kite\n"))
    answer = doc(result)
    assert answer["session_id"].startswith("ses_")
    (turn,) = answer["turns"]
    assert turn["action"] == "chat"
    assert "kite" in turn["text"]
    assert turn["draft_changed"] is True
    assert {"action": "export", "phrase": "Click Export"} in turn["suggested_actions"]
    assert "new session" in result.stderr


def test_chat_message_routed_to_export(nemo: Nemo, session_with_video: str, tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    out.write_bytes(b"older")  # export in chat never overwrites: the next free name is used
    result = ok(nemo("--json", "chat", session_with_video, "-m", "export", "-o", str(out)))
    (turn,) = doc(result)["turns"]
    assert turn["action"] == "export"
    assert turn["path"] == str(tmp_path / "v-2.mp4")
    assert out.read_bytes() == b"older"
    assert_playable(tmp_path / "v-2.mp4")


def test_chat_say_sends_keywords_to_the_agent(nemo: Nemo, session_with_video: str) -> None:
    result = ok(nemo("--json", "chat", session_with_video, "-m", "/say what is my status?"))
    (turn,) = doc(result)["turns"]
    assert turn["action"] == "chat"


# ---------------------------------------------------------------- upload, state, credits


def test_upload_a_real_clip(nemo: Nemo, tmp_path: Path) -> None:
    clip = tmp_path / "beach.mp4"
    generate_clip("a beach", clip, duration=1.0, width=160, height=90, fps=12)
    sid = ok(nemo("sessions", "create")).stdout.strip()
    result = ok(nemo("upload", sid, str(clip)))
    assert "beach.mp4" in result.stdout
    assert "upload 1 file" in result.stderr
    answer = doc(ok(nemo("--json", "upload", sid, str(clip))))
    assert answer["session_id"] == sid
    assert answer["files"][0]["file_type"] == "video"


def test_upload_refuses_a_missing_file(nemo: Nemo, tmp_path: Path) -> None:
    result = nemo("upload", "ses_x", str(tmp_path / "nope.mp4"))
    assert result.exit_code == 2


def test_state_shows_the_tracks(nemo: Nemo, session_with_video: str) -> None:
    # "[b]" would be bold markup to rich: a title is shown as written.
    ok(nemo("chat", session_with_video, "-m", "add a title '[b]Snow Day' for 2 s"))
    result = ok(nemo("state", session_with_video))
    assert "Timeline" in result.stdout
    for cell in ("video", "text", "red fox", '"[b]Snow Day" (0-2s)', "0-2s"):
        assert cell in result.stdout
    assert "Timeline (2 tracks): 1. Video:" in result.stdout
    answer = doc(ok(nemo("--json", "state", session_with_video)))
    assert answer["session_id"] == session_with_video
    assert answer["timeline"].startswith("Timeline (2 tracks)")
    assert answer["exportable"] is True
    assert [t["type"] for t in answer["tracks"]] == ["video", "text"]
    title = answer["tracks"][1]
    assert (title["index"], title["segments"], title["start"], title["end"]) == (2, 1, 0, 2)
    assert title["details"] == ['"[b]Snow Day" (0-2s)']
    assert answer["draft"]["t"][1]["tt"] == 7


def test_credits(nemo: Nemo) -> None:
    assert "credits: 1000 available, 0 frozen, 1000 total" in ok(nemo("credits")).stdout
    assert doc(ok(nemo("--json", "credits"))) == {"available": 1000, "frozen": 0, "total": 1000}


# ---------------------------------------------------------------- export and renders


def test_export_waits_and_downloads(nemo: Nemo, session_with_video: str, tmp_path: Path) -> None:
    out = tmp_path / "export.mp4"
    result = ok(nemo("export", session_with_video, "-o", str(out)))
    assert f"saved {out}" in result.stdout
    assert "render" in result.stderr and "download" in result.stderr
    assert_playable(out)
    assert doc(ok(nemo("--json", "renders", "pending"))) == {"pending": []}


def test_export_of_an_empty_session_is_refused(nemo: Nemo, tmp_path: Path) -> None:
    sid = ok(nemo("sessions", "create")).stdout.strip()
    result = nemo("export", sid, "-o", str(tmp_path / "x.mp4"))
    assert result.exit_code == 3
    assert "nothing on its timeline" in result.stderr


def test_renders_pending_wait_download(
    nemo: Nemo, nemo_emulator: Emulator, session_with_video: str, tmp_path: Path
) -> None:
    async def start(client: NemoClient) -> str:
        return (await client.renders.export(session_with_video)).id

    rid = run_sdk(nemo_emulator, start)
    pending = doc(ok(nemo("--json", "renders", "pending")))["pending"]
    assert [(p["render_id"], p["session_id"]) for p in pending] == [(rid, session_with_video)]
    assert rid in ok(nemo("renders", "pending")).stdout
    waited = doc(ok(nemo("--json", "renders", "wait", rid)))
    assert (waited["render_id"], waited["status"]) == (rid, "completed")
    out = tmp_path / "later.mp4"
    saved = doc(ok(nemo("--json", "renders", "download", rid, str(out))))
    assert saved == {"path": str(out), "render_id": rid}
    assert_playable(out)
    assert "no pending renders" in ok(nemo("renders", "pending")).stdout


@pytest.mark.nemo_emulator(render_seconds=30)
def test_renders_cancel(nemo: Nemo, nemo_emulator: Emulator, session_with_video: str) -> None:
    async def start(client: NemoClient) -> str:
        return (await client.renders.export(session_with_video)).id

    rid = run_sdk(nemo_emulator, start)
    answer = doc(ok(nemo("--json", "renders", "cancel", rid)))
    assert answer["render_id"] == rid
    assert answer["status"] in ("cancelled", "failed")
    assert doc(ok(nemo("--json", "renders", "pending"))) == {"pending": []}


# ---------------------------------------------------------------- emulator


@pytest.mark.slow
def test_emulator_serves_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemo_sdk.cli", "--json", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or lines[-1] != "}\n":  # the JSON document, pretty-printed
            line = proc.stdout.readline()
            assert line, "the emulator ended early"
            lines.append(line)
        url = json.loads("".join(lines))["url"]
        assert "credits: 100000 available" in ok(invoke("--api-url", url, "credits")).stdout
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "emulator stopped" in err


def test_chat_routes_upload_of_named_files(nemo: Nemo, tmp_path: Path) -> None:
    clip = tmp_path / "export.mp4"  # a name with a keyword in it: still an upload
    generate_clip("a pier", clip, duration=1.0, width=160, height=90, fps=12)
    sid = ok(nemo("sessions", "create")).stdout.strip()
    (turn,) = doc(ok(nemo("--json", "chat", sid, "-m", f"upload {clip}")))["turns"]
    assert turn["action"] == "upload"
    assert turn["files"][0]["file_type"] == "video"
    (turn,) = doc(ok(nemo("--json", "chat", sid, "-m", str(clip))))["turns"]
    assert turn["action"] == "upload"
