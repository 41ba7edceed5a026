"""The retry rules of API.md, driven through the emulator's faults."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from nemo_sdk import (
    APITimeoutError,
    AuthenticationError,
    NemoClient,
    RateLimitError,
    ServerError,
    Timeouts,
)
from nemo_sdk.config import RetrySettings
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import RecordingSleep

from ..conftest import FAST_RETRY


async def test_429_then_success(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    emulator.faults.add("credits", "429")
    async with NemoClient(base_url=emulator.url, sleep=sleep) as nemo:
        credits = await nemo.credits.balance()
    assert credits.available == 100
    assert emulator.count("credits") == 2
    assert sleep.waits == [30.0]  # no Retry-After: the API's 30 s


async def test_429_twice_raises_after_exactly_one_retry(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    emulator.faults.add("credits", "429", times=2, retry_after="7")
    async with NemoClient(base_url=emulator.url, sleep=sleep) as nemo:
        with pytest.raises(RateLimitError) as info:
            await nemo.credits.balance()
    assert emulator.count("credits") == 2
    assert sleep.waits == [7.0]
    assert info.value.retry_after == 7.0


async def test_retry_after_as_http_date(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    emulator.faults.add("credits", "429", retry_after=format_datetime(when, usegmt=True))
    async with NemoClient(base_url=emulator.url, sleep=sleep) as nemo:
        await nemo.credits.balance()
    assert len(sleep.waits) == 1
    assert 17.0 <= sleep.waits[0] <= 21.0


async def test_retry_after_past_the_cap_is_raised_not_waited(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    emulator.faults.add("credits", "429", retry_after=str(7 * 86400))
    async with NemoClient(base_url=emulator.url, sleep=sleep) as nemo:
        with pytest.raises(RateLimitError) as info:
            await nemo.credits.balance()
    assert sleep.waits == []
    assert info.value.retry_after == 7 * 86400


async def test_1001_reauths_once_with_the_same_client_id(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        await nemo.credits.balance()
        old_token, _ = await nemo._transport.tokens.get()
        emulator.store.expire(old_token)
        credits = await nemo.credits.balance()
        new_token, _ = await nemo._transport.tokens.get()
    assert credits.available == 100
    assert new_token != old_token
    token_calls = [r for r in emulator.requests if r.route == "token"]
    assert len(token_calls) == 2
    assert token_calls[0].headers["X-Client-Id"] == token_calls[1].headers["X-Client-Id"]
    # The retried request carried the new token.
    last = [r for r in emulator.requests if r.route == "credits"][-1]
    assert last.headers["Authorization"] == f"Bearer {new_token}"


async def test_1001_twice_raises(emulator: Emulator) -> None:
    emulator.faults.add("credits", "1001", times=2)
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        with pytest.raises(AuthenticationError) as info:
            await nemo.credits.balance()
    assert "rejected again" in str(info.value)
    assert emulator.count("credits") == 2


async def test_env_token_may_opt_in_to_anonymous_reauth(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = emulator.issue_token()
    monkeypatch.setenv("NEMO_TOKEN", token)
    emulator.store.expire(token)
    async with NemoClient(
        base_url=emulator.url, allow_anonymous_reauth=True, retry=FAST_RETRY
    ) as nemo:
        assert nemo.config.token_source == "env"
        credits = await nemo.credits.balance()
    assert credits.available == 100
    assert emulator.count("token") == 1


async def test_50_concurrent_1001_make_exactly_one_token_request(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        await nemo.credits.balance()
        token, _ = await nemo._transport.tokens.get()
        emulator.store.expire(token)
        before = emulator.count("token")
        results = await asyncio.gather(*(nemo.credits.balance() for _ in range(50)))
    assert len(results) == 50
    assert emulator.count("token") - before == 1
    assert emulator.count("credits") == 1 + 50 + 50


async def test_transient_errors_on_get_retry_with_backoff(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    emulator.faults.add("credits", "500", times=2)
    retry = RetrySettings(max_retries=2, backoff_initial=0.5, backoff_max=8.0)
    async with NemoClient(base_url=emulator.url, sleep=sleep, retry=retry) as nemo:
        await nemo.credits.balance()
    assert emulator.count("credits") == 3
    assert len(sleep.waits) == 2
    assert all(0 <= w <= 8.0 for w in sleep.waits)


async def test_5xx_on_creating_post_is_not_resent(client: NemoClient, emulator: Emulator) -> None:
    await client.credits.balance()
    emulator.faults.add("session", "500")
    with pytest.raises(ServerError):
        await client.sessions.create()
    assert emulator.count("session") == 1


async def test_429_on_creating_post_is_retried(client: NemoClient, emulator: Emulator) -> None:
    emulator.faults.add("session", "429", retry_after="0")
    session = await client.sessions.create()
    assert session.id in emulator.store.sessions
    assert emulator.count("session") == 2
    assert len(emulator.store.sessions) == 1


async def test_dropped_connection_on_get_is_retried(client: NemoClient, emulator: Emulator) -> None:
    session = await client.sessions.create()
    emulator.faults.add("state", "drop")
    state = await client.state.get(session.id)
    assert state.draft is None
    assert emulator.count("state") == 2


async def test_slow_response_past_timeout(emulator: Emulator) -> None:
    emulator.faults.add("credits", "slow", delay=0.5, times=None)
    timeouts = Timeouts(connect=1.0, read=0.1, total=0.2)
    async with NemoClient(base_url=emulator.url, timeouts=timeouts, retry=FAST_RETRY) as nemo:
        await nemo.auth.ensure_token()
        started = time.perf_counter()
        with pytest.raises(APITimeoutError):
            await nemo.credits.balance()
    assert time.perf_counter() - started < 2.0
    assert emulator.count("credits") == 1 + FAST_RETRY.max_retries


async def test_with_options_changes_retries_and_shares_the_pool(emulator: Emulator) -> None:
    emulator.faults.add("credits", "500", times=None)
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        quick = nemo.with_options(max_retries=0, timeout=5.0)
        with pytest.raises(ServerError):
            await quick.credits.balance()
        assert emulator.count("credits") == 1
        assert quick.config.timeouts.total == 5.0
        assert quick._transport._pool is nemo._transport._pool
        assert quick._transport.tokens is nemo._transport.tokens
    assert quick.closed


@pytest.mark.parametrize(("number", "bound"), [(1, 0.5), (2, 1.0), (3, 2.0), (10, 8.0)])
def test_transient_backoff_is_full_jitter_up_to_the_doubling_bound(
    number: int, bound: float
) -> None:
    from nemo_sdk._http.retry import _backoff

    settings = RetrySettings(max_retries=10, backoff_initial=0.5, backoff_max=8.0)
    waits = [_backoff(settings, number) for _ in range(300)]
    assert all(0 <= w <= bound for w in waits)
    assert max(waits) > bound * 0.8  # uniform over the whole range, not a fixed wait
