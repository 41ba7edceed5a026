"""A chat reply carries the answer of its ``POST /run_sse`` stream: ``response_info(reply)``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from nemo_sdk import ChatTurnError, NemoClient, response_info
from nemo_sdk.emulator import Emulator
from tests.chat.conftest import Rig
from tests.conftest import FAST_RETRY


class StreamAnswers:
    """The ``/run_sse`` answers' headers, recorded by aiohttp's own tracing (not the SDK's)."""

    def __init__(self) -> None:
        self.headers: list[CIMultiDict[str]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._end)

    async def _end(self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any) -> None:
        if params.url.path == "/run_sse":
            self.headers.append(CIMultiDict(params.response.headers))


async def test_a_reply_carries_the_status_headers_and_request_id_of_its_stream() -> None:
    answers = StreamAnswers()
    async with (
        Emulator() as emu,
        aiohttp.ClientSession(trace_configs=[answers.trace]) as http,
        NemoClient(base_url=emu.url, retry=FAST_RETRY, http_session=http) as nemo,
    ):
        session = await nemo.sessions.create()
        reply = await nemo.chat.send(session.id, "generate a fox")
        async with nemo.chat.stream(session.id, "make it blue") as events:
            async for _ in events:
                pass
        streamed = events.reply

    for got, sent in zip((reply, streamed), answers.headers, strict=True):
        info = response_info(got)
        assert info is not None and info.status == 200
        assert info.request_id == sent["X-Request-Id"] and info.request_id.startswith("req_")
        assert info.headers["Content-Type"].startswith("text/event-stream")
        assert info.body == b""  # the events were the body; the reply holds them
    assert response_info(reply) is not response_info(streamed)


async def test_an_interrupted_and_a_failed_turn_keep_the_answer_too(rig: Rig) -> None:
    async with rig() as (emu, nemo, session_id):
        emu.faults.add("chat", "drop")  # the edit is applied, then the stream is cut
        reply = await nemo.chat.send(session_id, "generate a fox")
        assert reply.interrupted
        info = response_info(reply)
        assert info is not None and info.status == 200 and info.request_id

        emu.faults.add("chat", "turn_error", code="MODEL_RETURNED_NO_CONTENT")
        with pytest.raises(ChatTurnError) as caught:
            await nemo.chat.send(session_id, "make it blue")
        info = response_info(caught.value.reply)
        assert info is not None and info.status == 200 and info.request_id
