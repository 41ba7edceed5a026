"""The connection pool's limits are settings: ``Limits(max_connections=, ...)``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from nemo_sdk import Limits, NemoClient
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
    assert await five_at_once(slow, limits=Limits(max_connections=2)) == 2


async def test_max_connections_per_host_caps_them_for_one_host(slow: Slow) -> None:
    assert await five_at_once(slow, limits=Limits(max_connections_per_host=2)) == 2


async def test_the_default_pool_does_not_hold_five_back(slow: Slow) -> None:
    assert await five_at_once(slow) == 5


async def test_no_limit_is_none(slow: Slow) -> None:
    assert await five_at_once(slow, limits=Limits(max_connections=None)) == 5


@pytest.mark.parametrize("name", ["max_connections", "max_connections_per_host"])
@pytest.mark.parametrize("value", [-1, 0, True, 2.5, "10"])
def test_a_bad_limit_is_a_configuration_error(name: str, value: object) -> None:
    # 0 would allow no connection at all: None says "no limit" (aiohttp's 0 does not leak).
    with pytest.raises(ConfigurationError, match=f"Limits.{name}.*None for no limit"):
        Limits(**{name: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="limits must be a Limits"):
        NemoClient(base_url="http://127.0.0.1:9", limits=2)  # type: ignore[arg-type]


def test_the_defaults_are_aiohttps_and_the_transport_reads_them_in_its_terms() -> None:
    default = ClientConfig.resolve(env={})
    assert default.limits == Limits(max_connections=100, max_connections_per_host=None)
    assert default.trust_env is True
    assert (default.max_connections, default.max_connections_per_host) == (100, 0)
    unlimited = ClientConfig.resolve(limits=Limits(max_connections=None), env={})
    assert unlimited.max_connections == 0  # aiohttp's "no limit"


# ----------------------------------------------------- the retired loose spelling


@pytest.mark.parametrize("name", ["max_connections", "max_connections_per_host"])
async def test_the_loose_limits_still_work_and_warn(slow: Slow, name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{name}=.*limits=Limits\({name}=") as seen:
        assert await five_at_once(slow, **{name: 2}) == 2
    assert seen[0].filename == __file__  # the warning points at the caller's line


@pytest.mark.parametrize("name", ["max_connections", "max_connections_per_host"])
@pytest.mark.parametrize("value", [-1, True, 2.5, "10"])
def test_a_bad_loose_limit_is_a_configuration_error_naming_it(name: str, value: object) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigurationError, match=name):
        NemoClient(base_url="http://127.0.0.1:9", **{name: value})  # type: ignore[arg-type]


def test_the_loose_zero_still_means_no_limit() -> None:
    with pytest.warns(DeprecationWarning):
        config = ClientConfig.resolve(max_connections=0, max_connections_per_host=0, env={})
    assert config.limits == Limits(max_connections=None, max_connections_per_host=None)


def test_the_group_and_the_loose_spelling_together_are_refused() -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigurationError, match="both given"):
        NemoClient(limits=Limits(), max_connections=5)  # type: ignore[call-arg]
