"""The crash harness's emulator, in a process of its own, with a read-only control origin.

    python -m tests.crash.emulator_proc --knob render_seconds=0.3 ...

Prints one JSON line ``{"api": ..., "cdn": ..., "control": ...}`` once it listens,
and serves until its stdin closes (the harness ends, or is killed).
The control origin (a third port, never the API's) answers ``GET /state?client_id=X``
with what the emulator holds for that client's user: credits, sessions (messages,
applied edits) and renders (status, file size, sha256). The SDK under test never
sees it; only the harness asks, to check its invariants from the server's side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from nemo_sdk.emulator.__main__ import parse_knob
from nemo_sdk.emulator.server import Emulator


def _sha256(path: Path | None) -> tuple[str | None, int | None]:
    if path is None or not path.is_file():
        return None, None
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def user_state(emu: Emulator, client_id: str) -> dict[str, Any]:
    """What the emulator holds for the anonymous user of ``client_id`` (empty: none yet)."""
    store = emu.store
    token = store.tokens.get(store.client_tokens.get(client_id, ""))
    if token is None:
        return {"user": None, "available": None, "frozen": None, "sessions": [], "renders": []}
    uid = token.user_id
    user = store.users[uid]
    sessions = [
        {
            "id": s.id,
            "messages": len(s.messages),
            "edits": s.applied_edits,
            "exportable": bool(s.draft and any(t.get("sg") for t in s.draft.get("t", []))),
        }
        for s in store.sessions.values()
        if s.user_id == uid
    ]
    renders = []
    for rec in emu.renders.values():
        if rec.user_id != uid:
            continue
        digest, size = _sha256(rec.path) if rec.status == "completed" else (None, None)
        renders.append(
            {
                "id": rec.id,
                "session_id": rec.session_id,
                "status": rec.status,
                "sha256": digest,
                "size": size,
            }
        )
    return {
        "user": uid,
        "available": user.available,
        "frozen": user.frozen,
        "sessions": sessions,
        "renders": renders,
    }


async def _serve(args: argparse.Namespace) -> None:
    knobs = dict(args.knob or [])
    async with Emulator(
        starting_credits=args.starting_credits, tokens_per_ip=1_000_000, seed=args.seed, **knobs
    ) as emu:

        async def state(request: web.Request) -> web.Response:
            return web.json_response(user_state(emu, request.query.get("client_id", "")))

        control = web.Application()
        control.router.add_get("/state", state)
        runner = web.AppRunner(control, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        line = {"api": emu.url, "cdn": emu.cdn_url, "control": f"http://127.0.0.1:{port}"}
        print(json.dumps(line), flush=True)
        # Serve until the harness closes our stdin, or dies: no emulator outlives it.
        gone = asyncio.Event()
        loop = asyncio.get_running_loop()

        def watch_stdin() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(gone.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        try:
            await gone.wait()
        finally:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starting-credits", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--knob", type=parse_knob, action="append")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
