"""Record the raw ``/run_sse`` bytes of google-adk's own server for every case and mode.

``python -m tests.adk.capture`` rewrites ``tests/adk/captures/``: for each case of
:data:`CASES`, ``<case>.plain.sse`` (body without ``"streaming"``, as the vendor's
documents send it) and ``<case>.streaming.sse`` (``"streaming": true``), byte for byte
as the server sent them; ``unknown_session.404.json`` is the answer for a session ADK
does not know. Ids and timestamps are left as they were: tests compare keys and
patterns, not values.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp

CAPTURES = Path(__file__).parent / "captures"

# case -> the message that selects it (adk_app.script); the silent tool waits briefly.
CASES: dict[str, str] = {
    "text": "case:text",
    "text_and_call": "case:text_and_call",
    "tool_then_text": "case:tool_then_text",
    "two_calls": "case:two_calls",
    "silent_tool": "case:silent_tool seconds=0.3",
    "thought": "case:thought",
    "actions": "case:actions",
    "error_event": "case:error_event",
    "role_only": "case:role_only",
    "no_content": "case:no_content",
    "model_raises": "case:model_raises",
    "raises_midway": "case:raises_midway",
}
MODES = {"plain": False, "streaming": True}


def body(session_id: str, message: str, streaming: bool) -> dict[str, Any]:
    """The documented ``/run_sse`` body, plus ``"streaming": true`` when asked."""
    out: dict[str, Any] = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": message}]},
    }
    if streaming:
        out["streaming"] = True
    return out


async def new_session(http: aiohttp.ClientSession, url: str, session_id: str) -> None:
    """Create ``session_id`` in ADK (its own session route)."""
    sessions = f"{url}/apps/nemo_agent/users/me/sessions"
    async with http.post(sessions, json={"session_id": session_id}) as r:
        r.raise_for_status()


async def run_sse(
    http: aiohttp.ClientSession, url: str, session_id: str, message: str, streaming: bool
) -> tuple[int, bytes]:
    async with http.post(f"{url}/run_sse", json=body(session_id, message, streaming)) as r:
        return r.status, await r.read()


async def capture(url: str) -> dict[str, bytes]:
    """Every case's raw answer, by capture file name."""
    written: dict[str, bytes] = {}
    async with aiohttp.ClientSession() as http:
        for case, message in CASES.items():
            for mode, streaming in MODES.items():
                sid = f"cap-{case}-{mode}-{uuid.uuid4().hex[:6]}"
                await new_session(http, url, sid)
                status, raw = await run_sse(http, url, sid, message, streaming)
                if status != 200:
                    raise RuntimeError(f"{case}/{mode}: HTTP {status}: {raw!r}")
                written[f"{case}.{mode}.sse"] = raw
        status, raw = await run_sse(http, url, "no-such-session", "case:text", False)
        written[f"unknown_session.{status}.json"] = raw
    return written


def main() -> None:
    from .adk_app import serve

    with serve() as url:
        captured = asyncio.run(capture(url))
    for name, raw in captured.items():
        (CAPTURES / name).write_bytes(raw)
        print(CAPTURES / name)


if __name__ == "__main__":
    sys.exit(main())
