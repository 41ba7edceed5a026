"""The command's parts on their own: the chat display, the error table, the token cache."""

from __future__ import annotations

import asyncio
import io
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console

from nemo_sdk import errors
from nemo_sdk._http.token_cache import TokenCache
from nemo_sdk.cli.chat import ChatPrinter
from nemo_sdk.cli.exits import ExitCode, describe
from nemo_sdk.events import ToolCall, ToolResult
from nemo_sdk.models.chat import ChatReply
from nemo_sdk.models.session import AnonymousToken
from nemo_sdk.routing import Action, SuggestedAction


def printer() -> tuple[ChatPrinter, io.StringIO, io.StringIO]:
    text, notes = io.StringIO(), io.StringIO()
    console = Console(file=text, width=200)
    return ChatPrinter(console, Console(file=notes, width=200)), text, notes


def test_printer_writes_the_new_reply_text_and_notes_tool_traffic() -> None:
    # The pieces are the SDK's new reply text (ReplyBuilder's rules, tested in tests/chat).
    show, text, notes = printer()

    async def turn() -> None:
        await show.on_reply_text("Hel")
        await show.on_reply_text("lo")
        await show.on_tool_call(ToolCall("1", "add_title", {"text": "Hi"}))
        await show.on_tool_result(ToolResult("1", "add_title", {"status": "success"}))
        await show.on_reply_text("\n\nDone.")
        await show.on_reply_text("\n\nBye.")

    asyncio.run(turn())
    show.end_line()
    assert text.getvalue() == "Hello\nDone.\n\nBye.\n"
    assert "→ add_title({'text': 'Hi'})" in notes.getvalue()
    assert "← add_title: {'status': 'success'}" in notes.getvalue()


def test_printer_still_working_and_hints() -> None:
    show, text, notes = printer()
    asyncio.run(show.on_still_working(125.0))
    reply = ChatReply(
        session_id="s",
        draft_changed=True,
        summary="Added BGM track: Lo-fi (0-10s, 35%)",
        suggested_actions=[SuggestedAction(Action.EXPORT, "Click Export")],
    )
    show.finish(reply)
    assert "still working... (2 min)" in notes.getvalue()
    assert "type 'export'" in notes.getvalue()
    assert "(no text from the agent) Added BGM track" in text.getvalue()


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.InsufficientCreditsError("out", register_url="https://w/register?bind=a"), 5),
        (errors.ExportBlocked("402", status=402), 6),
        (errors.AuthenticationError("expired", code=1001), 4),
        (errors.SessionNotFoundError("gone", code=1002), 7),
        (errors.NotFoundError("no render", status=404), 7),
        (errors.APITimeoutError("slow"), 8),
        (errors.RenderTimeout("late", render_id="render_1"), 8),
        (errors.RateLimitError("429", retry_after=30), 9),
        (errors.InvalidArgument("bad"), 2),
        (FileExistsError("x exists"), 2),
        (errors.ServerError("boom", status=500), 3),
        (errors.RenderFailed("failed", render_id="render_1"), 3),
        (RuntimeError("bug"), 1),
    ],
)
def test_exit_codes(exc: Exception, code: int) -> None:
    failure = describe(exc)
    assert failure.code == ExitCode(code)
    assert "\n" not in failure.message


def test_hints_are_not_repeated() -> None:
    link = "https://w/register?bind=anon_1"
    message = describe(
        errors.InsufficientCreditsError(f"out — register: {link}", register_url=link)
    )
    assert message.message.count(link) == 1
    assert (
        "nemo renders wait render_1"
        in describe(errors.RenderTimeout("late", render_id="render_1")).message
    )


def test_a_token_echoed_by_the_server_is_not_printed() -> None:
    echoed = errors.SessionNotFoundError("no session for Bearer nmv_usr_s3cr3t", code=1002)
    assert "s3cr3t" not in describe(echoed).message


def test_token_cache(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "cfg" / "tokens.json")
    later = datetime.now(timezone.utc) + timedelta(days=7)
    cache.save("http://api", AnonymousToken(token="nmv_usr_a", user_id="anon_1", expires_at=later))
    kept = cache.load("http://api")
    assert kept is not None and kept.token == "nmv_usr_a" and kept.user_id == "anon_1"
    assert cache.load("http://other") is None
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    soon = datetime.fromtimestamp(time.time() + 60, timezone.utc)
    cache.save("http://api", AnonymousToken(token="nmv_usr_b", expires_at=soon))
    assert cache.load("http://api") is None  # about to expire: a new one is fetched
    cache.forget("http://api")
    assert "nmv_usr" not in cache.path.read_text()
    cache.path.write_text("not json")
    assert cache.load("http://api") is None


def test_importing_the_sdk_does_not_import_the_command() -> None:
    code = (
        "import sys, nemo_sdk, nemo_sdk.workflows; "
        "bad = [m for m in ('nemo_sdk.cli', 'click', 'rich') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nemo_sdk.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("nemo, version")
