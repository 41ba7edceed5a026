"""The read-idle and total timeouts of API calls (aiohttp's own, set by the transport)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from nemo_sdk import APITimeoutError, NemoClient, Timeouts
from nemo_sdk.config import RetrySettings
from nemo_sdk.testing import Handler, serving

BODY = json.dumps({"code": 0, "data": {"available": 7, "frozen": 0, "total": 7}}).encode()
NO_RETRY = RetrySettings(max_retries=0)

Serve = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(handler)``: the URL of a server answering every request with it."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(handler: Handler) -> str:
            return await stack.enter_async_context(serving(handler))

        yield start


def _client(url: str, **timeouts: float | None) -> NemoClient:
    return NemoClient(
        base_url=url,
        token="nmv_usr_test",
        client_id="test",
        journal_path=False,
        retry=NO_RETRY,
        timeouts=Timeouts(connect=1.0, **timeouts),  # type: ignore[arg-type]
    )


def _trickle(pieces: int, pause: float) -> Handler:
    """Headers at once, then the body a few bytes at a time."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(BODY)
        await resp.prepare(request)
        step = -(-len(BODY) // pieces)
        for start in range(0, len(BODY), step):
            await resp.write(BODY[start : start + step])
            await asyncio.sleep(pause)
        return resp

    return handler


async def test_a_stalled_body_times_out_on_the_read_limit_not_the_total(serve: Serve) -> None:
    # The bounds sit far from both limits, so a loaded machine cannot blur them.
    url = await serve(_trickle(pieces=2, pause=60.0))
    async with _client(url, read=0.2, total=30.0) as nemo:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="timed out"):
            await nemo.credits.balance()
        elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 10.0


async def test_no_answer_at_all_times_out_on_the_read_limit(serve: Serve) -> None:
    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.Event().wait()  # parked until the client hangs up
        return web.Response(body=BODY, content_type="application/json")

    url = await serve(silent)
    async with _client(url, read=0.2, total=30.0) as nemo:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await nemo.credits.balance()
    assert 0.2 <= time.monotonic() - started < 10.0


async def test_a_body_that_keeps_arriving_is_not_idle(serve: Serve) -> None:
    # 1.2 s in all, but never more than 0.1 s without a byte: the 1 s idle limit holds
    # (ten times the gap, so a loaded machine's late wake-ups do not reach it).
    url = await serve(_trickle(pieces=12, pause=0.1))
    async with _client(url, read=1.0, total=30.0) as nemo:
        credits = await nemo.credits.balance()
    assert credits.available == 7


async def test_the_total_limit_ends_a_call_that_keeps_trickling(serve: Serve) -> None:
    # 40 pieces 0.5 s apart: 20 s in all, never idle for the 5 s read limit.
    url = await serve(_trickle(pieces=40, pause=0.5))
    async with _client(url, read=5.0, total=0.5) as nemo:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await nemo.credits.balance()
    assert 0.5 <= time.monotonic() - started < 10.0


async def test_without_limits_a_slow_answer_is_awaited(serve: Serve) -> None:
    url = await serve(_trickle(pieces=2, pause=0.3))
    async with _client(url, read=None, total=None) as nemo:
        assert (await nemo.credits.balance()).available == 7


async def test_a_timeout_leaves_the_task_uncancelled(serve: Serve) -> None:
    url = await serve(_trickle(pieces=2, pause=5.0))
    async with _client(url, read=0.1, total=30.0) as nemo:
        with pytest.raises(APITimeoutError):
            await nemo.credits.balance()
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            assert task.cancelling() == 0
        await asyncio.sleep(0.01)  # a leftover cancellation would land here


async def test_the_callers_cancellation_is_not_turned_into_a_timeout(serve: Serve) -> None:
    url = await serve(_trickle(pieces=2, pause=5.0))
    async with _client(url, read=0.2, total=30.0) as nemo:
        call = asyncio.ensure_future(nemo.credits.balance())
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call


async def test_the_callers_own_deadline_wins(serve: Serve) -> None:
    url = await serve(_trickle(pieces=2, pause=5.0))
    async with _client(url, read=1.0, total=30.0) as nemo:
        with pytest.raises(asyncio.TimeoutError) as info:
            await asyncio.wait_for(nemo.credits.balance(), 0.1)
    assert not isinstance(info.value, APITimeoutError)


async def test_one_stalled_call_among_many_times_out_alone(serve: Serve) -> None:
    seen = 0

    async def answer(request: web.Request) -> web.StreamResponse:
        nonlocal seen
        seen += 1
        if seen == 5:
            await asyncio.sleep(5.0)
        return web.Response(body=BODY, content_type="application/json")

    url = await serve(answer)
    async with _client(url, read=0.3, total=30.0) as nemo:
        results = await asyncio.gather(
            *(nemo.credits.balance() for _ in range(20)), return_exceptions=True
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], APITimeoutError)
