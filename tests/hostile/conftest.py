"""Hostile-server fixtures: an emulator and client per test, and a second host that records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from multidict import CIMultiDict

from nemo_sdk import ChatSettings
from nemo_sdk.testing import Rig, emulator_rig, serving


@dataclass
class OtherHost:
    """A tiny aiohttp server on 127.0.0.1 that records every request it gets."""

    url: str = ""
    seen: list[tuple[str, str, CIMultiDict[str]]] = field(default_factory=list)

    def headers(self) -> list[CIMultiDict[str]]:
        return [h for _, _, h in self.seen]


@pytest.fixture
async def other_host() -> AsyncIterator[OtherHost]:
    host = OtherHost()

    async def record(request: web.Request) -> web.Response:
        host.seen.append((request.method, request.path_qs, CIMultiDict(request.headers)))
        return web.Response(status=404, text="nothing here")

    async with serving(record) as host.url:
        yield host


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    chat = ChatSettings(drop_wait=0.0, poll_interval=0.0, unchanged_reads=2)
    async with emulator_rig(chat=chat, starting_credits=1000, no_text_rate=0.0) as rig:
        yield rig
