"""Every operation x every fault kind against the emulator: the outcome API.md documents.

One parametrized test; the cases and their expected outcomes are in
:mod:`tests.faults.matrix`. Beyond the outcome, every case checks that nothing
was lost or doubled: no partial file at a target path (a ``.part`` beside it
is fine: it resumes), no render the emulator holds without a journal entry,
no chat edit applied twice, no second session or upload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import NemoClient, NemoError
from nemo_sdk.emulator.routes_chat import turns

from .conftest import EDIT, SLOW_TIMEOUTS, TINY_DRAFT, OutcomeLog, Rig, make_rig
from .matrix import CASES, FAULTS, ROUTE, Count, Expect, case_id, count_text, requests_text

NEEDS_SESSION = {"chat", "upload", "state", "export", "poll", "download"}


def _params() -> list[Any]:
    params = []
    for (op, kind), expect in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=expect.xfail)] if expect.xfail else []
        params.append(pytest.param(op, kind, expect, id=case_id(op, kind), marks=marks))
    return params


def _matches(count: int, expected: Count) -> bool:
    if isinstance(expected, int):
        return count == expected
    low, high = expected
    return count >= low and (high is None or count <= high)


async def _setup(op: str, rig: Rig) -> None:
    if op == "token":
        return
    await rig.nemo.auth.ensure_token()
    if op in NEEDS_SESSION:
        rig.session_id = (await rig.nemo.sessions.create()).id
    if op in ("poll", "download"):
        await rig.render_ready()


async def _run(op: str, rig: Rig, nemo: NemoClient, still_png: Path) -> Any:
    sid = rig.session_id
    if op == "token":
        return await nemo.auth.ensure_token()
    if op == "session":
        return await nemo.sessions.create()
    if op == "chat":
        return await nemo.chat.send(sid, EDIT)
    if op == "upload":
        return await nemo.uploads.upload(sid, still_png)
    if op == "state":
        return await nemo.state.get(sid)
    if op == "credits":
        return await nemo.credits.balance()
    if op == "export":
        return await nemo.renders.export(sid, TINY_DRAFT)
    if op == "poll":
        return await nemo.renders.wait(rig.render_id, poll_interval=0.01, timeout=0.2)
    assert op == "download"
    return await nemo.renders.download(rig.render_id, rig.tmp / "out" / "video.mp4")


def _verify(op: str, rig: Rig, result: Any) -> None:
    """The operation that recovered delivered the real thing."""
    emu = rig.emu
    if op == "token":
        assert (rig.nemo.auth.user_id or "").startswith("anon_")
    elif op == "session":
        assert result.id in emu.store.sessions
    elif op == "chat":
        assert result.draft_changed and result.summary and "Faults" in result.summary
    elif op == "upload":
        (uploaded,) = result
        assert uploaded.file_type == "image"
    elif op == "state":
        assert result.draft is None
    elif op == "credits":
        assert result.available == 1000
    elif op == "export":
        assert result.id in emu.renders
    elif op == "poll":
        assert result.succeeded and result.output_url
    else:
        record = emu.renders[rig.render_id]
        assert record.path is not None
        assert result.read_bytes() == record.path.read_bytes(), "the file is not the render"


def _check_error(exc: NemoError, expect: Expect, rig: Rig) -> None:
    assert expect.error is not None
    assert type(exc) is expect.error, f"{type(exc).__name__}: {exc}"
    for name, value in expect.fields.items():
        if name == "register_url":
            uid = rig.nemo.auth.user_id
            assert uid is not None and uid.startswith("anon_")
            assert exc.register_url == f"https://nemovideo.com/register?bind={uid}"  # type: ignore[attr-defined]
            assert exc.user_id == uid  # type: ignore[attr-defined]
            assert exc.register_url in str(exc)  # type: ignore[attr-defined]
        else:
            assert getattr(exc, name) == value, name
    if type(exc).__name__ == "ExportBlockedError":
        assert "NEMO_TOKEN" in str(exc)  # says what unlocks export


async def _nothing_lost(op: str, rig: Rig, recovered: bool, expect: Expect) -> None:
    emu = rig.emu
    # No render without a journal entry (a downloaded one has left the journal).
    journaled = {p.render_id for p in await rig.nemo.renders.pending()}
    downloaded = {rig.render_id} if op == "download" and recovered else set()
    assert set(emu.renders) - downloaded <= journaled
    # Creating calls made one thing at most, however the answer went.
    limit = 1 if op in ("session", "token") else 1 + (op in NEEDS_SESSION)
    assert len(emu.store.sessions) <= limit
    if op == "export":
        assert len(emu.renders) <= 1
    if rig.session_id:
        session = emu.store.sessions[rig.session_id]
        assert len(session.video_infos) <= 1  # an upload is never stored twice
        # A chat edit is never applied twice, and each accepted turn is one request.
        assert session.applied_edits <= 1
        assert len(turns(emu)) <= emu.count("chat")
        if expect.applied is not None:
            assert session.applied_edits == expect.applied
    out = rig.tmp / "out"
    if op == "download":
        files = sorted(p.name for p in out.iterdir()) if out.exists() else []
        finals = [name for name in files if not name.endswith(".part")]
        assert finals == (["video.mp4"] if recovered else [])


@pytest.mark.parametrize(("op", "kind", "expect"), _params())
async def test_fault(
    op: str,
    kind: str,
    expect: Expect,
    tmp_path: Path,
    still_png: Path,
    outcome_log: OutcomeLog,
    request: pytest.FixtureRequest,
) -> None:
    slow = kind == "slow"
    # The token call belongs to the client's own settings (its token manager is shared
    # by with_options copies), so the token case gets the short timeouts from the start.
    async with make_rig(
        tmp_path, timeouts=SLOW_TIMEOUTS if slow and op == "token" else None
    ) as rig:
        await _setup(op, rig)
        emu = rig.emu
        fault_kind, times, params = FAULTS[kind]
        nemo = rig.nemo.with_options(timeout=SLOW_TIMEOUTS) if slow else rig.nemo
        before = rig.counts()
        emu.faults.add(ROUTE[op], fault_kind, times=times, **params)
        error: NemoError | None = None
        result: Any = None
        try:
            result = await _run(op, rig, nemo, still_png)
        except NemoError as exc:
            error = exc
        wrong: str | None = None
        if error is None:
            try:
                _verify(op, rig, result)
            except AssertionError as exc:
                wrong = str(exc).splitlines()[0]
        after = rig.counts()
        origin = "cdn" if ROUTE[op] == "cdn" else "api"
        seen = after[(origin, ROUTE[op])] - before[(origin, ROUTE[op])]
        also = {route: after[("api", route)] - before[("api", route)] for route in expect.also}
        outcome_log.record(
            request.node.callspec.id,
            op=op,
            kind=kind,
            outcome=(
                type(error).__name__
                if error
                else f"wrong result: {wrong}"
                if wrong
                else "recovered"
            ),
            expected=expect.outcome,
            requests={ROUTE[op]: seen, **also},
            requests_text=requests_text(op, expect),
            fields={k: str(v) for k, v in expect.fields.items()},
            note=expect.note,
            xfail=expect.xfail,
        )

        if expect.error is None:
            assert error is None, f"{type(error).__name__}: {error}"
            assert wrong is None, wrong
        else:
            assert error is not None, f"expected {expect.error.__name__}, the call succeeded"
            _check_error(error, expect, rig)
        assert _matches(seen, expect.requests), (
            f"{ROUTE[op]} saw {seen} requests, expected {count_text(expect.requests)}"
        )
        for route, count in expect.also.items():
            assert _matches(also[route], count), f"{route} saw {also[route]}"
        await _nothing_lost(op, rig, error is None, expect)
