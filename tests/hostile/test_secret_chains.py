"""The token is in nothing reachable from an error we raise, whatever its shape.

A small hostile server on 127.0.0.1 answers in every broken way a client can meet:
a refused connection, a dropped one, silence (a timeout), an unparsable status line
(aiohttp's ``ClientResponseError`` keeps the request headers, bearer token included),
a 400 that echoes the token, and malformed answers. Every error is walked whole:
``__cause__``, ``__context__``, ``args`` and attributes, recursively, with ``str``/``repr``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from nemo_sdk import NemoClient, NemoError, Timeouts
from nemo_sdk.models.session import AnonymousToken
from nemo_sdk.testing import Handler, serving

from ..conftest import FAST_RETRY

SHAPES = {
    "nmv": "nmv_usr_Q2hhbmdlTWUxMjM0NTY3",
    "stripe": "sk_live_51HxYzAbCdEfGhIjKlMnOp",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm9uXzEifQ.c2lnbmF0dXJlLV9fd2l0aA",
    "base64": "QmFzZTY0K/Rva2VuPT0+Zm9v/YmFy==",
}


def texts_reachable_from(exc: BaseException) -> list[str]:
    """``str``/``repr`` of the error, its causes and contexts, args and attributes, recursively."""
    texts: list[str] = []
    seen: set[int] = set()

    def walk(value: Any, depth: int) -> None:
        if id(value) in seen or depth > 8:
            return
        seen.add(id(value))
        texts.append(repr(value))
        if isinstance(value, BaseException):
            texts.append(str(value))
            for arg in value.args:
                walk(arg, depth + 1)
            for name in ("__cause__", "__context__"):
                inner = getattr(value, name)
                if inner is not None:
                    walk(inner, depth + 1)
            for attr in getattr(value, "__dict__", {}).values():
                walk(attr, depth + 1)
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item, depth + 1)

    walk(exc, 0)
    return texts


def assert_nothing_holds(token: str, texts: list[str]) -> None:
    pieces = [token] + [part for part in token.split(".") if len(part) >= 12]
    for text in texts:
        for piece in pieces:
            assert piece not in text, f"{piece!r} found in {text[:300]!r}"


async def raw_server(answer: bytes | None) -> tuple[asyncio.Server, str]:
    """A TCP server that reads the request, then writes ``answer`` raw (``None``: stays silent)."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if answer is None:
            await asyncio.sleep(5)
        else:
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def echo(token: str, status: int = 400) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        said = request.headers.get("Authorization", "")
        body = {
            "code": 4999,
            "message": f"bad token {token}; you sent {said}",
            "data": {"t": token},
        }
        return web.json_response(body, status=status)

    return handler


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def provoke(base_url: str, token: str) -> list[BaseException]:
    """Every call kind (a GET, a creating POST, a stream) against ``base_url``."""
    caught: list[BaseException] = []
    async with NemoClient(
        base_url=base_url,
        token=token,
        retry=FAST_RETRY,
        timeouts=Timeouts(connect=1.0, read=0.3, total=0.5),
        journal_path=False,
    ) as nemo:
        calls: list[Callable[[], Awaitable[Any]]] = [
            nemo.credits.balance,
            nemo.sessions.create,
            lambda: nemo.chat.send("ses_1", "hello"),
        ]
        for call in calls:
            with pytest.raises(NemoError) as info:
                await call()
            caught.append(info.value)
    return caught


@pytest.fixture(params=sorted(SHAPES))
def token(request: pytest.FixtureRequest) -> str:
    return SHAPES[request.param]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every logger at DEBUG, the SDK's own handler on."""
    monkeypatch.setenv("NEMO_LOG", "debug")
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage that is no status line\r\n\r\n",
        b"HTTP/1.1 2000000 Nope\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"code": 0',
        b"",
        None,
    ],
    ids=["bad-status-line", "bad-status-code", "short-body", "closed", "silent"],
)
async def test_broken_answers_leave_the_token_nowhere(
    token: str, answer: bytes | None, all_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    server, url = await raw_server(answer)
    try:
        caught = await provoke(url, token)
    finally:
        server.close()
    texts = [t for exc in caught for t in texts_reachable_from(exc)]
    texts += [r.getMessage() for r in caplog.records]
    assert_nothing_holds(token, texts)


async def test_a_refused_connection_leaves_the_token_nowhere(token: str, all_logs: None) -> None:
    caught = await provoke(f"http://127.0.0.1:{free_port()}", token)
    assert_nothing_holds(token, [t for exc in caught for t in texts_reachable_from(exc)])


@pytest.mark.parametrize("status", [400, 200, 500, 429, 402])
async def test_a_server_echoing_the_token_in_any_shape_is_redacted(
    token: str, status: int, all_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(echo(token, status)) as url:
        caught = await provoke(url, token)
    assert any("bad token" in str(exc) for exc in caught)  # the server's words are kept
    texts = [t for exc in caught for t in texts_reachable_from(exc)]
    texts += [str(getattr(exc, "body", "")) for exc in caught]
    texts += [r.getMessage() for r in caplog.records]
    assert_nothing_holds(token, texts)


async def test_a_malformed_token_answer_shows_neither_token_nor_extra_fields(
    all_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    fresh, extra = SHAPES["jwt"], "rt_" + "R" * 30

    async def handler(request: web.Request) -> web.Response:
        data = {"token": fresh, "access_token": extra, "expires_at": "not a time", "credits": []}
        return web.json_response({"code": 0, "data": data})

    async with (
        serving(handler) as url,
        NemoClient(base_url=url, retry=FAST_RETRY, journal_path=False) as nemo,
    ):
        with pytest.raises(NemoError) as info:
            await nemo.credits.balance()
    texts = texts_reachable_from(info.value) + [r.getMessage() for r in caplog.records]
    assert_nothing_holds(fresh, texts)
    assert_nothing_holds(extra, texts)


def test_the_token_model_shows_no_extra_field() -> None:
    answer = {
        "token": SHAPES["nmv"],
        "user_id": "anon_1",
        "access_token": "at_secret_value_1234",
        "refresh_token": "rt_secret_value_5678",
    }
    model = AnonymousToken.model_validate(answer)
    shown = [repr(model), str(model), json.dumps(model.model_dump(mode="json", exclude={"token"}))]
    for text in shown:
        for secret in ("at_secret_value_1234", "rt_secret_value_5678", SHAPES["nmv"]):
            assert secret not in text
    assert "anon_1" in repr(model)
    assert model.token == SHAPES["nmv"]


async def test_malformed_answers_echoing_the_token_leave_it_nowhere(
    token: str, all_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Every answer is well-formed JSON of the wrong shape, with the token in each field."""

    async def handler(request: web.Request) -> web.Response:
        wrong = {
            "token": [token], "available": token, "session_id": [token], "task_id": {"x": token},
            "state": {"draft": token, "canvas_config": token, "video_infos": token},
            "id": [token], "status": token, "progress": token, "files": [{"filename": [token]}],
        }  # fmt: skip
        return web.json_response({"code": 0, "success": True, "data": wrong, **wrong})

    caught: list[BaseException] = []
    async with (
        serving(handler) as url,
        NemoClient(base_url=url, token=token, retry=FAST_RETRY, journal_path=False) as nemo,
    ):
        calls: list[Callable[[], Awaitable[Any]]] = [
            nemo.credits.balance,
            nemo.sessions.create,
            lambda: nemo.state.get("ses_1"),
            lambda: nemo.renders.get("render_1"),
            lambda: nemo.uploads.upload("ses_1", [("a.png", PNG)]),
        ]
        for call in calls:
            with pytest.raises(NemoError) as info:
                await call()
            caught.append(info.value)
    texts = [t for exc in caught for t in texts_reachable_from(exc)]
    texts += [r.getMessage() for r in caplog.records]
    assert_nothing_holds(token, texts)


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
