"""The connection pool's limits are settings: ``max_connections`` and per host (issue 17)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from nemo_sdk import NemoClient
from nemo_sdk.config import ClientConfig, ConfigurationError
from nemo_sdk.testing import serving

BODY = json.dumps({"code": 0, "data": {"available": 7, "frozen": 0, "total": 7}}).encode()


class Slow:
    """A server whose answers take a moment, that notes how many it serves at once."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.2)
        finally:
            self.active -= 1
        return web.Response(body=BODY, content_type="application/json")


@pytest.fixture
async def slow() -> AsyncIterator[Slow]:
    server = Slow()
    async with serving(server.handle) as server.url:
        yield server


async def five_at_once(slow: Slow, **limits: Any) -> int:
    async with NemoClient(base_url=slow.url, token="t", trust_env=False, **limits) as nemo:
        await asyncio.gather(*(nemo.credits.balance() for _ in range(5)))
    return slow.peak


async def test_max_connections_caps_the_requests_in_flight(slow: Slow) -> None:
    assert await five_at_once(slow, max_connections=2) == 2


async def test_max_connections_per_host_caps_them_for_one_host(slow: Slow) -> None:
    assert await five_at_once(slow, max_connections_per_host=2) == 2


async def test_the_default_pool_does_not_hold_five_back(slow: Slow) -> None:
    assert await five_at_once(slow) == 5


@pytest.mark.parametrize("name", ["max_connections", "max_connections_per_host"])
@pytest.mark.parametrize("value", [-1, True, 2.5, "10", None])
def test_a_bad_limit_is_a_configuration_error(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=name):
        NemoClient(base_url="http://127.0.0.1:9", **{name: value})  # type: ignore[arg-type]


def test_zero_is_no_limit_and_the_defaults_are_aiohttps() -> None:
    config = ClientConfig.resolve(max_connections=0, env={})
    assert (config.max_connections, config.max_connections_per_host) == (0, 0)
    default = ClientConfig.resolve(env={})
    assert (default.max_connections, default.max_connections_per_host, default.trust_env) == (
        100,
        0,
        True,
    )
