"""Answers in the right envelope with the wrong shape: only typed errors come out.

The emulator's ``garbage`` fault with ``body=`` sends well-formed JSON whose
``data`` has wrong types or missing fields. Each call must then raise a
typed error (``InvalidResponseError``, or ``UnknownRenderStatus`` for a status
outside the documented set), never pydantic's ``ValidationError``,
``RecursionError`` or ``AttributeError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import InvalidResponseError, NemoClient
from nemo_sdk.testing import TINY_DRAFT, Rig

Call = Callable[[NemoClient, str, str, Path], Awaitable[Any]]


def _credits(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.credits.balance()


def _session(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.sessions.create()


def _state(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.state.get(sid)


def _poll(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.renders.get(rid)


def _upload(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.uploads.upload(sid, media)


def _claim(nemo: NemoClient, sid: str, rid: str, media: Path) -> Awaitable[Any]:
    return nemo.sessions.claim_link(session_id=sid, task_id="task_x")


async def _token(nemo: NemoClient, sid: str, rid: str, media: Path) -> Any:
    return await nemo.auth.anonymous_token()


CASES = [
    pytest.param("credits", {"code": 0, "data": [1, 2]}, _credits, id="credits-data-list"),
    pytest.param(
        "credits", {"code": 0, "data": {"available": "lots"}}, _credits, id="credits-wrong-type"
    ),
    pytest.param("credits", [1], _credits, id="credits-not-an-object"),
    pytest.param("session", {"code": 0, "data": {}}, _session, id="session-no-id"),
    pytest.param(
        "session", {"code": 0, "data": {"session_id": 5}}, _session, id="session-id-number"
    ),
    pytest.param("token", {"code": 0, "data": {}}, _token, id="token-missing"),
    pytest.param(
        "token",
        {"code": 0, "data": {"token": "nmv_x", "expires_at": "soon"}},
        _token,
        id="token-bad-expiry",
    ),
    pytest.param(
        "state",
        {"code": 0, "data": {"state": {"draft": {"t": "nope"}}}},
        _state,
        id="state-bad-draft",
    ),
    pytest.param(
        "state", {"code": 0, "data": {"state": {"canvas_config": 5}}}, _state, id="state-bad-canvas"
    ),
    pytest.param(
        "state",
        {"code": 0, "data": {"state": {"draft": "{not json"}}},
        _state,
        id="state-draft-text-bad",
    ),
    pytest.param(
        "state",
        {"code": 0, "data": {"state": {"draft": "[" * 5000 + "]" * 5000}}},
        _state,
        id="state-draft-text-deep",
    ),
    pytest.param(
        "state",
        {"code": 0, "data": "not an object"},
        _state,
        id="state-data-string",
    ),
    pytest.param(
        "upload", {"code": 0, "data": {"files": [{"filename": 5}]}}, _upload, id="upload-bad-file"
    ),
    pytest.param("upload", {"code": 0, "data": {"files": "x"}}, _upload, id="upload-files-text"),
    pytest.param(
        "claim", {"code": 0, "data": {"claim_token": ["x"]}}, _claim, id="claim-token-list"
    ),
    pytest.param("poll", {"success": True, "data": {"status": 5}}, _poll, id="poll-status-number"),
    pytest.param(
        "poll", {"success": True, "data": {"status": "exploded"}}, _poll, id="poll-status-unknown"
    ),
]


@pytest.mark.parametrize(("route", "body", "call"), CASES)
async def test_a_wrong_shaped_answer_is_a_typed_error(
    rig: Rig, tmp_path: Path, route: str, body: Any, call: Call
) -> None:
    job = await rig.nemo.renders.export(rig.session_id, TINY_DRAFT)
    media = tmp_path / "clip.png"
    media.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    rig.emu.faults.add(route, "garbage", body=body)
    with pytest.raises(InvalidResponseError):
        await call(rig.nemo, rig.session_id, job.id, media)
    assert rig.emu.faults.pending == []  # the answer was the planned one


@pytest.mark.parametrize(
    ("field", "value"), [("progress", [1]), ("outputUrl", {"u": 1}), ("error", ["x"])]
)
async def test_odd_render_fields_are_read_defensively(rig: Rig, field: str, value: Any) -> None:
    job = await rig.nemo.renders.export(rig.session_id, TINY_DRAFT)
    body = {"success": True, "data": {"id": job.id, "status": "processing", field: value}}
    rig.emu.faults.add("poll", "garbage", body=body)
    read = await rig.nemo.renders.get(job.id)
    assert read.status == "processing" and read.id == job.id
