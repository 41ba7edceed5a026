"""Client lifecycle, attribution headers, sessions, claim links, credits, state."""

from __future__ import annotations

import aiohttp
import pytest

from nemo_sdk import ClientClosedError, NemoClient, SessionState
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY


async def test_session_credits_and_state(client: NemoClient, emulator: Emulator) -> None:
    session = await client.sessions.create(language="zh-CN")
    assert session.id in emulator.store.sessions
    assert session.language == "zh-CN"
    assert session.user_id == client.auth.user_id
    assert emulator.store.sessions[session.id].language == "zh-CN"
    credits = await client.credits.balance()
    assert (credits.available, credits.frozen, credits.total) == (100, 0, 100)
    emulator.set_draft(session.id, {"t": [{"tt": 0, "sg": [{"d": 5000, "m": {"name": "x"}}]}]})
    state = await client.state.get(session.id)
    assert isinstance(state, SessionState)
    assert state.draft is not None and state.draft.is_exportable
    assert state.canvas_config is not None and state.canvas_config.width == 160


async def test_every_request_carries_attribution(client: NemoClient, emulator: Emulator) -> None:
    await client.sessions.create()
    await client.credits.balance()
    assert len(emulator.requests) == 3
    for request in emulator.requests:
        assert request.headers["X-Skill-Source"] == "nemo-sdk"
        assert request.headers["X-Skill-Version"]
        assert request.headers["X-Skill-Platform"] == "unknown"
    token_call = emulator.requests[0]
    assert token_call.route == "token" and "Authorization" not in token_call.headers


async def test_claim_link_never_puts_the_bearer_token_in_a_url(
    client: NemoClient, emulator: Emulator
) -> None:
    session = await client.sessions.create()
    link = await client.sessions.claim_link(session)
    token, _ = await client._transport.tokens.get()
    assert link.url.startswith("https://nemovideo.com/workspace/claim?ct=clm_")
    assert token not in link.url
    assert link.expires_in == 604800
    assert emulator.requests[-1].path == "/api/auth/claim-token"


async def test_use_after_close_raises(emulator: Emulator) -> None:
    nemo = NemoClient(base_url=emulator.url, retry=FAST_RETRY)
    await nemo.credits.balance()
    await nemo.close()
    assert nemo.closed
    with pytest.raises(ClientClosedError):
        await nemo.credits.balance()
    await nemo.close()  # closing twice is fine


async def test_injected_session_is_not_closed(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with NemoClient(base_url=emulator.url, http_session=http) as nemo:
            await nemo.credits.balance()
        assert not http.closed
        async with http.get(f"{emulator.url}/api/credits/balance/simple") as resp:
            assert resp.status == 200


async def test_client_made_outside_a_loop_works_inside_one(emulator: Emulator) -> None:
    nemo = NemoClient(base_url=emulator.url)
    async with nemo:
        assert (await nemo.credits.balance()).available == 100


async def test_auth_resource(client: NemoClient, emulator: Emulator) -> None:
    answer = await client.auth.anonymous_token()
    assert answer.user_id and answer.user_id.startswith("anon_")
    assert answer.credits == 100 and answer.expires_at is not None
    assert answer.token not in repr(answer)
