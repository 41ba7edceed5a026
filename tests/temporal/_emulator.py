"""The emulator in its own process, plus a control port the tests read and steer.

Prints ``READY <api url> <control url> <token>`` once both listen. The token is
a registered one every worker shares (a fleet's identity).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from aiohttp import web

from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.routes_chat import turns


def stats(emu: Emulator) -> dict[str, Any]:
    return {
        "sessions": len(emu.store.sessions),
        "turns": [
            {"session": t.session_id, "completed": t.completed, "tool": t.tool} for t in turns(emu)
        ],
        "renders": [
            {"id": r.id, "session": r.session_id, "status": r.status}
            for r in list(emu.renders.values())
        ],
        "exports": emu.count("export"),
        "polls": emu.count("poll"),
        "downloads": emu.count("cdn", "cdn") + emu.count("download"),
        # The Range header of each file request ("" for none): a resume asks for the rest.
        "file_ranges": [
            r.headers.get("Range", "") for r in emu.requests if r.route in ("cdn", "download")
        ],
    }


async def main(knobs: dict[str, Any]) -> None:
    async with Emulator(starting_credits=10**7, tokens_per_ip=10**6, **knobs) as emu:
        token = emu.issue_token(credits=10**7)

        async def get_stats(_: web.Request) -> web.Response:
            return web.json_response(stats(emu))

        async def add_fault(request: web.Request) -> web.Response:
            spec = await request.json()
            emu.faults.add(spec.pop("route"), spec.pop("kind"), **spec)
            return web.json_response({"ok": True})

        app = web.Application()
        app.add_routes([web.get("/stats", get_stats), web.post("/fault", add_fault)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY {emu.url} http://127.0.0.1:{port} {token}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
