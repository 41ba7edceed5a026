"""The emulator's own rules: token limits, expiry, scopes, faults, request log."""

from __future__ import annotations

import aiohttp
import pytest

from nemo_sdk import NemoClient, RateLimitError
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY


async def test_one_live_token_per_client_and_per_ip_limit(tmp_path: object) -> None:
    async with Emulator(tokens_per_ip=2) as emu:
        for i in range(2):
            async with NemoClient(base_url=emu.url, client_id=f"c{i}", retry=FAST_RETRY) as n:
                await n.credits.balance()
                first, _ = await n._transport.tokens.get()
                again = await n.auth.anonymous_token()
                assert again.token == first  # same client, live token: the same one back
        async with NemoClient(base_url=emu.url, client_id="c3", retry=FAST_RETRY) as nemo:
            with pytest.raises(RateLimitError) as info:
                await nemo.credits.balance()
    assert info.value.limit == "per_ip"
    assert "2 tokens per IP" in str(info.value)
    assert info.value.retry_after is not None and info.value.retry_after > 86400


async def test_expired_token_gets_1001_and_new_token_has_fresh_expiry() -> None:
    now = [1_000_000.0]
    async with (
        Emulator(token_ttl=60, clock=lambda: now[0]) as emu,
        NemoClient(base_url=emu.url, retry=FAST_RETRY) as nemo,
    ):
        first = await nemo.auth.anonymous_token()
        now[0] += 61
        await nemo.credits.balance()  # 1001, then re-auth
        second = nemo._transport.tokens.info
        assert second is not None and second.token != first.token
        assert first.expires_at is not None and second.expires_at is not None
        assert (second.expires_at - first.expires_at).total_seconds() == pytest.approx(61)
        assert second.user_id == first.user_id  # same client, same anonymous user


async def test_requests_are_recorded_with_route_names(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emulator.url}/api/auth/anonymous-token") as resp:
            assert resp.status == 400
            assert "X-Client-Id" in (await resp.json())["message"]
        async with http.get(f"{emulator.url}/api/credits/balance/simple") as resp:
            assert (await resp.json())["code"] == 1001
    assert [r.route for r in emulator.requests] == ["token", "credits"]


async def test_faults_count_down_and_validate(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.faults.add("credits", "explode")
    fault = emulator.faults.add("credits", "500", times=2)
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(3):
            async with http.get(f"{emulator.url}/api/credits/balance/simple") as resp:
                statuses.append(resp.status)
    assert statuses == [500, 500, 200]
    assert fault.fired == 2 and emulator.faults.pending == []
