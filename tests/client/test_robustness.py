"""``with_options`` copies and the token fetch; bounded messages for low-level errors."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from nemo_sdk import APIConnectionError, APITimeoutError, NemoClient, RetrySettings, Timeouts
from nemo_sdk._http.response import connection_error
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import RecordingSleep
from tests.conftest import FAST_RETRY

# The token call is held 2 s; a copy with these timeouts gives up well before (the
# bound, HOLD - 1 s, leaves a loaded machine room).
QUICK = Timeouts(connect=2.0, read=0.1, total=0.2)
HOLD = 2.0
NO_RETRY = RetrySettings(max_retries=0)


# -- 1. a token fetch triggered from a with_options copy uses the copy's settings


async def test_a_copys_first_call_fetches_the_token_under_the_copys_timeouts(
    emulator: Emulator,
) -> None:
    emulator.faults.add("token", "slow", delay=HOLD)
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        quick = nemo.with_options(timeout=QUICK, max_retries=0)
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="anonymous-token"):
            await quick.credits.balance()
        assert time.monotonic() - started < HOLD - 1.0
        # The manager is still shared: the original fetches the one token both then use.
        await nemo.credits.balance()
        await quick.credits.balance()
    assert emulator.count("token") == 2  # the abandoned one, then the one in use


async def test_a_copys_renewal_after_1001_uses_the_copys_timeouts(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        await nemo.credits.balance()
        quick = nemo.with_options(timeout=QUICK, max_retries=0)
        token = nemo._transport.tokens.current
        assert token is not None
        emulator.store.expire(token)
        emulator.faults.add("token", "slow", delay=HOLD)
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="anonymous-token"):
            await quick.credits.balance()
        assert time.monotonic() - started < HOLD - 1.0


async def test_a_copys_token_fetch_uses_the_copys_retry_settings(emulator: Emulator) -> None:
    sleep = RecordingSleep()
    emulator.faults.add("token", "429")  # no Retry-After: the rate-limit wait applies
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY, sleep=sleep) as nemo:
        patient = nemo.with_options(retry=RetrySettings(rate_limit_wait=7.0))
        await patient.credits.balance()
    assert sleep.waits == [7.0]
    assert emulator.count("token") == 2


async def test_concurrent_first_calls_from_a_client_and_its_copies_fetch_one_token(
    emulator: Emulator,
) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        copies = [nemo, nemo.with_options(timeout=5.0), nemo.with_options(max_retries=0)]
        await asyncio.gather(*(copies[i % 3].credits.balance() for i in range(50)))
        token = nemo._transport.tokens.current
        emulator.store.expire(token or "")
        before = emulator.count("token")
        await asyncio.gather(*(copies[i % 3].credits.balance() for i in range(50)))
    assert before == 1
    assert emulator.count("token") == 2  # one renewal for the fifty 1001s


# -- 2. a low-level error's text is bounded in our messages, and redacted


def _garbage_with(token: str, size: int = 6000) -> bytes:
    # One long "status line": aiohttp quotes all of it in its "Bad status line" error.
    return f"HTTP/1.1 2OO {token} ".encode() + b"x" * size + b"\r\n\r\n"


def _check_bounded(exc: APIConnectionError, token: str) -> None:
    message = str(exc)
    assert len(message) < 400, message
    assert "…" in message and "chars in all]" in message
    assert token not in message and "[redacted]" in message
    cause = exc.__cause__
    assert isinstance(cause, aiohttp.ClientResponseError)
    assert len(str(cause)) > 6000  # the whole text is kept on the cause


async def test_a_garbage_answer_gives_a_short_redacted_message(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=NO_RETRY) as nemo:
        await nemo.auth.ensure_token()
        token = nemo._transport.tokens.current
        assert token is not None
        emulator.faults.add("credits", "garbage", raw=True, body=_garbage_with(token))
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    _check_bounded(info.value, token)
    assert str(info.value).startswith("GET /api/credits/balance/simple: ClientResponseError: ")


async def test_a_garbage_answer_to_a_stream_gives_a_short_redacted_message(
    emulator: Emulator,
) -> None:
    async with NemoClient(base_url=emulator.url, retry=NO_RETRY) as nemo:
        await nemo.auth.ensure_token()
        token = nemo._transport.tokens.current
        assert token is not None
        emulator.faults.add("credits", "garbage", raw=True, body=_garbage_with(token))
        with pytest.raises(APIConnectionError) as info:
            async with nemo._transport.stream("GET", "/api/credits/balance/simple"):
                pass
    _check_bounded(info.value, token)


def test_short_error_texts_are_kept_whole() -> None:
    error = connection_error(
        aiohttp.ServerDisconnectedError("Server disconnected"), "GET /x", answered=True
    )
    assert type(error) is APIConnectionError
    assert str(error) == "GET /x: ServerDisconnectedError: Server disconnected"
