"""Every result built from a JSON answer carries that answer: status, headers, request id, body."""

from __future__ import annotations

import gc
import pickle
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict
from PIL import Image

from nemo_sdk import Credits, NemoClient, ResponseInfo, response_info
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY

DRAFT = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"name": "x"}}]}]}


class Answers:
    """What the client received, recorded by aiohttp's own tracing (not by the SDK)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, CIMultiDict[str]]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._end)

    async def _end(self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any) -> None:
        resp = params.response
        self.seen.append((params.url.path, resp.status, CIMultiDict(resp.headers)))

    def by_id(self, request_id: str) -> tuple[str, int, CIMultiDict[str]]:
        (match,) = [a for a in self.seen if a[2].get("X-Request-Id") == request_id]
        return match


@pytest.fixture
async def traced(emulator: Emulator) -> AsyncIterator[tuple[NemoClient, Answers]]:
    answers = Answers()
    async with (
        aiohttp.ClientSession(trace_configs=[answers.trace]) as http,
        NemoClient(base_url=emulator.url, retry=FAST_RETRY, http_session=http) as nemo,
    ):
        yield nemo, answers


@pytest.fixture(scope="module")
def png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("png") / "still.png"
    Image.new("RGB", (16, 9), (10, 20, 30)).save(path)
    return path.read_bytes()


async def test_every_model_result_carries_the_answer_it_came_from(
    traced: tuple[NemoClient, Answers], emulator: Emulator, png: bytes
) -> None:
    nemo, answers = traced
    session = await nemo.sessions.create()
    emulator.set_draft(session.id, DRAFT)
    results: dict[str, object] = {
        "/api/tasks/me/with-session/nemo_agent": session,
        "/api/credits/balance/simple": await nemo.credits.balance(),
        f"/api/state/nemo_agent/me/{session.id}/latest": await nemo.state.get(session.id),
        "/api/auth/claim-token": await nemo.sessions.claim_link(session),
    }
    uploaded = await nemo.uploads.upload(session.id, [("a.png", png), ("b.png", png)])
    assert uploaded[0].cdn_url is not None
    by_url = await nemo.uploads.upload_urls(session.id, uploaded[0].cdn_url)
    job = await nemo.renders.export(session.id, DRAFT)
    polled = await nemo.renders.get(job.id)
    cancelled = await nemo.renders.cancel(job.id)
    upload_path = f"/api/upload-video/nemo_agent/me/{session.id}"
    render_path = f"/api/render/proxy/lambda/{job.id}"
    listed = [
        *results.items(),
        (upload_path, uploaded[0]),
        (upload_path, uploaded[1]),
        (upload_path, by_url[0]),
        ("/api/render/proxy/lambda", job),
        (render_path, polled),
        (f"{render_path}/cancel", cancelled),
    ]
    ids = set()
    for path, result in listed:
        info = response_info(result)
        assert isinstance(info, ResponseInfo), (path, result)
        assert info.request_id is not None and info.request_id.startswith("req_")
        seen_path, status, headers = answers.by_id(info.request_id)
        assert (seen_path, info.status) == (path, status)
        # The headers the emulator sent, all of them.
        assert list(info.headers.items()) == list(headers.items())
        ids.add(info.request_id)
    # One answer each, except the two files of one upload (one request).
    assert len(ids) == len(listed) - 1
    assert response_info(uploaded[0]) is response_info(uploaded[1])


async def test_the_raw_answer_is_the_escape_hatch(
    traced: tuple[NemoClient, Answers], emulator: Emulator
) -> None:
    nemo, answers = traced
    credits = await nemo.credits.balance()
    info = response_info(credits)
    assert info is not None and info.status == 200
    assert answers.by_id(str(info.request_id))[0] == "/api/credits/balance/simple"
    assert info.headers["Content-Type"].startswith("application/json")
    envelope = info.json()  # the whole envelope, fields no model declares included
    assert envelope["data"]["available"] == credits.available
    assert isinstance(info.body, bytes) and info.body.startswith(b"{")
    assert repr(info) == f"<ResponseInfo status=200 request_id={info.request_id!r}>"


async def test_after_a_retry_the_result_carries_the_answer_that_succeeded(
    traced: tuple[NemoClient, Answers], emulator: Emulator
) -> None:
    nemo, answers = traced
    await nemo.credits.balance()  # the token first, so the credits answers are the last ones
    emulator.faults.add("credits", "500")
    credits = await nemo.credits.balance()
    info = response_info(credits)
    assert info is not None and info.status == 200
    failed, succeeded = answers.seen[-2:]
    assert failed[1] == 500 and succeeded[1] == 200
    assert info.request_id == succeeded[2]["X-Request-Id"] != failed[2]["X-Request-Id"]


async def test_the_models_stay_as_they_were(client: NemoClient) -> None:
    first, second = await client.credits.balance(), await client.credits.balance()
    assert response_info(first) is not response_info(second)
    assert first == second and hash(first) == hash(second)  # the answer is no field
    made = Credits(available=100, frozen=0, total=100)
    assert first == made and response_info(made) is None
    assert first.model_dump() == made.model_dump() and repr(first) == repr(made)
    copy = pickle.loads(pickle.dumps(first))
    assert copy == first and response_info(copy) is None  # one exchange's, not the data's
    assert response_info(first.model_copy()) is None  # a copy is yours
    info = response_info(second)
    del first
    gc.collect()
    assert response_info(second) is info  # answers go with their results, not with others


def test_what_did_not_come_from_an_answer_has_none() -> None:
    assert response_info(Path("video.mp4")) is None
    assert response_info(None) is None
    assert response_info({"data": {}}) is None


async def test_answers_leave_with_their_results(client: NemoClient) -> None:
    from nemo_sdk._http.response_info import _ANSWERS

    kept = await client.credits.balance()
    gc.collect()  # results of earlier tests in this process go first: they are not ours
    before = len(_ANSWERS)
    for _ in range(20):
        await client.credits.balance()  # dropped at once
    gc.collect()
    # None of the twenty stays (fewer is fine: another test's leftover may go meanwhile).
    assert len(_ANSWERS) <= before and response_info(kept) is not None
