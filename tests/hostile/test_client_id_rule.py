"""HTTP 400 "missing X-Client-Id" is decided by status and code on the token call, never by words.

API.md gives ``X-Client-Id`` to one call, ``POST /api/auth/anonymous-token``, and one
rule for it: HTTP 400 → make a client id and retry. A 400 elsewhere (or one whose
envelope carries another code) is a plain ``BadRequestError``: no new id, nothing
re-sent. A client id the user configured is never replaced, on disk or in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from nemo_sdk import BadRequestError, MissingClientIdError, NemoClient
from nemo_sdk.testing import serving

from ..conftest import FAST_RETRY

PERSISTED = "11111111-1111-4111-8111-111111111111"
CONFIGURED = "22222222-2222-4222-8222-222222222222"


@dataclass
class Hostile:
    """Answers the token call and session creation as told; records what arrived."""

    url: str = ""
    token_answer: tuple[int, Any] = (200, {"code": 0, "data": {"token": "nmv_usr_h0stile_t0ken"}})
    session_answer: tuple[int, Any] = (200, {"code": 0, "data": {"session_id": "s1"}})
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.seen if p == path)


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    host = Hostile()

    async def handle(request: web.Request) -> web.Response:
        host.seen.append((request.path, request.headers.get("X-Client-Id")))
        if request.path == "/api/auth/anonymous-token":
            status, body = host.token_answer
        else:
            status, body = host.session_answer
        return web.json_response(body, status=status)

    async with serving(handle) as host.url:
        yield host


SESSION = "/api/tasks/me/with-session/nemo_agent"
TOKEN = "/api/auth/anonymous-token"
WORDY_400 = (400, {"code": 400, "message": "invalid client payload: task_name"})


@pytest.mark.parametrize("configured", ["file", "argument", "env"])
async def test_a_400_on_a_creating_post_is_a_bad_request_sent_once(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: str
) -> None:
    path = tmp_path / "client_id"
    path.write_text(PERSISTED + "\n")
    kwargs: dict[str, Any] = {"client_id_path": path}
    if configured == "argument":
        kwargs["client_id"] = CONFIGURED
    elif configured == "env":
        monkeypatch.setenv("NEMO_CLIENT_ID", CONFIGURED)
    hostile.session_answer = WORDY_400
    async with NemoClient(base_url=hostile.url, retry=FAST_RETRY, **kwargs) as nemo:
        with pytest.raises(BadRequestError) as info:
            await nemo.sessions.create()
        assert not isinstance(info.value, MissingClientIdError)
        expected = PERSISTED if configured == "file" else CONFIGURED
        assert nemo.auth.client_id == expected
    assert hostile.count(SESSION) == 1  # never re-sent
    assert path.read_text().strip() == PERSISTED  # never rewritten
    assert {cid for _, cid in hostile.seen} == {expected}


@pytest.mark.parametrize("configured", ["argument", "env"])
async def test_a_configured_client_id_is_never_replaced(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: str
) -> None:
    path = tmp_path / "client_id"
    kwargs: dict[str, Any] = {"client_id_path": path}
    if configured == "argument":
        kwargs["client_id"] = CONFIGURED
    else:
        monkeypatch.setenv("NEMO_CLIENT_ID", CONFIGURED)
    hostile.token_answer = (400, {"code": 400, "message": "missing X-Client-Id header"})
    async with NemoClient(base_url=hostile.url, retry=FAST_RETRY, **kwargs) as nemo:
        with pytest.raises(MissingClientIdError) as info:
            await nemo.credits.balance()
        assert nemo.auth.client_id == CONFIGURED
    assert "NEMO_CLIENT_ID" in str(info.value)  # says which setting to look at
    assert hostile.seen == [(TOKEN, CONFIGURED)]  # once: a new id is not ours to make
    assert not path.exists()


@pytest.mark.parametrize(
    "answer",
    [
        (400, {"code": 1003, "message": "client version too old"}),
        (400, {"code": 40001, "message": "client id malformed"}),
        (200, {"code": 400, "message": "missing client id"}),
    ],
    ids=["other-code", "five-digit-code", "http-200"],
)
async def test_only_status_400_with_no_other_code_renews(
    hostile: Hostile, tmp_path: Path, answer: tuple[int, Any]
) -> None:
    path = tmp_path / "client_id"
    path.write_text(PERSISTED + "\n")
    hostile.token_answer = answer
    async with NemoClient(base_url=hostile.url, retry=FAST_RETRY, client_id_path=path) as nemo:
        with pytest.raises(BadRequestError) as info:
            await nemo.credits.balance()
        assert not isinstance(info.value, MissingClientIdError)
    assert hostile.count(TOKEN) == 1
    assert path.read_text().strip() == PERSISTED


@pytest.mark.parametrize("body", [{"code": 400, "message": "Bad Request"}, "<html>400</html>"])
async def test_the_token_call_400_renews_a_persisted_id_once(
    hostile: Hostile, tmp_path: Path, body: Any
) -> None:
    path = tmp_path / "client_id"
    path.write_text(PERSISTED + "\n")
    hostile.token_answer = (400, body)
    async with NemoClient(base_url=hostile.url, retry=FAST_RETRY, client_id_path=path) as nemo:
        with pytest.raises(MissingClientIdError):
            await nemo.credits.balance()
        renewed = nemo.auth.client_id
    assert renewed != PERSISTED
    assert [cid for _, cid in hostile.seen] == [PERSISTED, renewed]  # the rule: retry once
    assert path.read_text().strip() == renewed
