"""The pipeline's own response: every failure is the SDK's typed error, saying if it was sent.

Each case is a real aiohttp server on 127.0.0.1 misbehaving one way; what the SDK
raises must be an ``APIConnectionError`` (``APITimeoutError`` for a limit) whose
``request_sent`` is ``False`` only when no byte of the request can have left.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from nemo_sdk import (
    APIConnectionError,
    APITimeoutError,
    Limits,
    NemoClient,
    RetrySettings,
    Timeouts,
)
from nemo_sdk._http import Response

from .conftest import serving

TOKEN = "nmv_usr_response_errors_secret"
NO_RETRY = RetrySettings(max_retries=0)


def _client(url: str, *, read: float = 2.0, connect: float = 2.0, **kw: Any) -> NemoClient:
    return NemoClient(
        base_url=url,
        token=TOKEN,
        client_id="test",
        journal_path=False,
        retry=NO_RETRY,
        timeouts=Timeouts(connect=connect, read=read, total=10.0),
        **kw,  # type: ignore[arg-type]
    )


def _no_token(exc: BaseException) -> None:
    seen: BaseException | None = exc
    while seen is not None:
        assert TOKEN not in repr(seen) and TOKEN not in str(seen)
        seen = seen.__cause__ or seen.__context__


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there now


async def _truncated(request: web.Request) -> web.StreamResponse:
    """Headers promising 100 bytes, 10 of them, then the connection drops."""
    resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    resp.content_length = 100
    await resp.prepare(request)
    await resp.write(b"x" * 10)
    assert request.transport is not None
    request.transport.close()
    return resp


async def _stalled(request: web.Request) -> web.StreamResponse:
    """Headers and a few bytes, then silence."""
    resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    resp.content_length = 100
    await resp.prepare(request)
    await resp.write(b"x" * 10)
    await asyncio.sleep(1.0)  # past the 0.2 s read limit
    return resp


async def test_a_refused_connection_was_not_sent() -> None:
    async with _client(_closed_port()) as nemo:
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.request_sent is False
    _no_token(info.value)


async def test_waiting_for_a_free_connection_past_the_connect_limit_was_not_sent() -> None:
    release = asyncio.Event()

    async def hold(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        await resp.prepare(request)
        await release.wait()
        return resp

    async with (
        serving(hold) as url,
        _client(url, connect=0.2, limits=Limits(max_connections=1)) as nemo,
        nemo._transport.stream("GET", "/a"),
    ):
        # The pool's one connection is busy: the second request waits for it.
        with pytest.raises(APITimeoutError) as info:
            async with nemo._transport.stream("GET", "/b"):
                pass
        release.set()
    assert info.value.request_sent is False


async def test_a_connection_dropped_before_the_answer_may_have_been_sent() -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    async with serving(drop) as url, _client(url) as nemo:
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.request_sent is True
    assert "GET /api/credits/balance/simple" in str(info.value)
    _no_token(info.value)


async def test_no_answer_within_the_read_limit_is_a_timeout_that_was_sent() -> None:
    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.0)  # past the 0.2 s read limit
        return web.Response()

    async with serving(silent) as url, _client(url, read=0.2) as nemo:
        with pytest.raises(APITimeoutError) as info:
            await nemo.credits.balance()
    assert info.value.request_sent is True


@pytest.fixture
async def truncated() -> AsyncIterator[NemoClient]:
    async with serving(_truncated) as url, _client(url) as nemo:
        yield nemo


async def test_read_of_a_truncated_body_is_a_connection_error(truncated: NemoClient) -> None:
    async with truncated._transport.stream("GET", "/file") as resp:
        assert isinstance(resp, Response)
        assert resp.status == 200 and resp.content_length == 100
        with pytest.raises(APIConnectionError) as info:
            await resp.read()
    assert info.value.request_sent is True
    assert isinstance(info.value.__cause__, aiohttp.ClientPayloadError)
    _no_token(info.value)


async def test_chunks_of_a_truncated_body_end_in_a_connection_error(truncated: NemoClient) -> None:
    got = b""
    async with truncated._transport.stream("GET", "/file") as resp:
        with pytest.raises(APIConnectionError) as info:
            async for chunk in resp.iter_chunks(4):
                got += chunk
    assert got == b"x" * 10  # what came is delivered before the error
    assert info.value.request_sent is True


async def test_partial_reads_of_a_truncated_body_end_in_a_connection_error(
    truncated: NemoClient,
) -> None:
    got = b""
    async with truncated._transport.stream("GET", "/file") as resp:
        with pytest.raises(APIConnectionError) as info:
            while chunk := await resp.read_some():
                got += chunk
    assert got == b"x" * 10
    assert info.value.request_sent is True


async def test_a_body_that_stalls_past_the_read_limit_times_out() -> None:
    async with (
        serving(_stalled) as url,
        _client(url, read=0.2) as nemo,
        nemo._transport.stream("GET", "/file") as resp,
    ):
        assert await resp.read_some() == b"x" * 10
        with pytest.raises(APITimeoutError) as info:
            await resp.read_some()
    assert info.value.request_sent is True


async def test_a_garbage_answer_is_a_connection_error_without_the_token() -> None:
    async def garbage(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.write(f"NOT HTTP {TOKEN}\r\n\r\n".encode())
        request.transport.close()
        return web.Response()

    async with serving(garbage) as url, _client(url) as nemo:
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    assert info.value.request_sent is True
    _no_token(info.value)


async def test_chat_says_the_message_was_not_sent_only_when_it_surely_was_not() -> None:
    """The state read works, then the server stops listening: the chat call's connection
    is refused, so the turn fails at once saying so (no recovery watch, nothing lost)."""
    sites: list[web.TCPSite] = []
    stopped: list[asyncio.Task[None]] = []

    async def state_then_stop(request: web.Request) -> web.StreamResponse:
        stopped.append(asyncio.ensure_future(sites[0].stop()))  # listening no more
        body = {"code": 0, "data": {"state": {"draft": {}}}}
        return web.json_response(body, headers={"Connection": "close"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", state_then_stop)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sites.append(web.TCPSite(runner, "127.0.0.1", 0))
    await sites[0].start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with _client(url) as nemo:
            with pytest.raises(APIConnectionError, match="the message was not sent") as info:
                await nemo.chat.send("sess_1", "hello")
        assert info.value.request_sent is False
        assert len(stopped) == 1  # the state was read, once
    finally:
        await asyncio.gather(*stopped)
        await runner.cleanup()
