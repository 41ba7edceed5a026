"""Hostile-server fixtures: an emulator and client per test, and a second host that records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from nemo_sdk import ChatSettings, NemoClient
from nemo_sdk.emulator import Emulator
from tests.conftest import FAST_RETRY, export_rendered

TINY_DRAFT: dict[str, Any] = {
    "m": {"title": "hostile", "width": 64, "height": 36},
    "t": [{"tt": 7, "sg": [{"d": 200, "m": {"text": "x"}}]}],
}


class InstantSleep:
    """The client's sleep: records the waits, waits for none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@dataclass
class OtherHost:
    """A tiny aiohttp server on 127.0.0.1 that records every request it gets."""

    url: str = ""
    seen: list[tuple[str, str, CIMultiDict[str]]] = field(default_factory=list)

    def headers(self) -> list[CIMultiDict[str]]:
        return [h for _, _, h in self.seen]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """``handler`` for every method and path on 127.0.0.1 (a free port); yields its URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def other_host() -> AsyncIterator[OtherHost]:
    host = OtherHost()

    async def record(request: web.Request) -> web.Response:
        host.seen.append((request.method, request.path_qs, CIMultiDict(request.headers)))
        return web.Response(status=404, text="nothing here")

    async with serving(record) as host.url:
        yield host


@dataclass
class Rig:
    emu: Emulator
    nemo: NemoClient
    sleep: InstantSleep
    session_id: str

    async def ready_render(self) -> str:
        """Export the tiny draft through the SDK (journaled); wait server-side for the file."""
        return await export_rendered(self.nemo, self.emu, self.session_id, TINY_DRAFT)

    def file_of(self, render_id: str) -> bytes:
        path = self.emu.renders[render_id].path
        assert path is not None
        return path.read_bytes()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    sleep = InstantSleep()
    async with (
        Emulator(render_seconds=0.01, starting_credits=1000, no_text_rate=0.0) as emu,
        NemoClient(
            base_url=emu.url,
            retry=FAST_RETRY,
            sleep=sleep,
            chat_settings=ChatSettings(drop_wait=0.0, poll_interval=0.0, unchanged_reads=2),
        ) as nemo,
    ):
        session = await nemo.sessions.create()
        yield Rig(emu, nemo, sleep, session.id)
