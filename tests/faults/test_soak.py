"""Soak: 20 concurrent ``generate_and_export`` flows with faults sprinkled at random.

The faults are drawn with a fixed seed from the kinds of the fault matrix and
planned up front; which flow meets which is up to the scheduler. Every flow
must end with its file (byte-identical to the render) or with one of the
documented typed errors, and nothing may be lost or doubled: no file at a
failed flow's target, every render the server holds is downloaded or in the
job journal, no chat message accepted twice for a session, no edit applied
more often than turns were accepted.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import (
    APIConnectionError,
    AuthenticationError,
    ChatSettings,
    DownloadError,
    DraftNotExportable,
    ExportBlocked,
    InsufficientCreditsError,
    InvalidResponseError,
    NemoClient,
    NemoError,
    RateLimitError,
    RenderFailed,
    RenderSettings,
    RenderTimeout,
    ServerError,
    SessionNotFoundError,
    StreamInterrupted,
    Timeouts,
)
from nemo_sdk.emulator import Emulator
from nemo_sdk.emulator.routes_chat import turns

from ..conftest import FAST_RETRY
from .conftest import OutcomeLog

SEED = 7_2024
FLOWS = 20
DOCUMENTED = (
    RateLimitError, AuthenticationError, SessionNotFoundError, InsufficientCreditsError,
    ExportBlocked, ServerError, APIConnectionError, InvalidResponseError, RenderTimeout,
    RenderFailed, DownloadError, StreamInterrupted, DraftNotExportable,
)  # fmt: skip
# (route, fault kind, params): the matrix's kinds, where each can happen.
MENU: list[tuple[str, str, dict[str, Any]]] = [
    ("token", "429", {"retry_after": "0"}),
    ("session", "429", {"retry_after": "0"}),
    ("session", "500", {}),
    ("session", "drop", {"after_apply": True}),
    ("session", "1001", {}),
    ("chat", "429", {"retry_after": "0"}),
    ("chat", "1001", {}),
    ("chat", "1001", {"mid_stream": True}),
    ("chat", "drop", {}),
    ("chat", "drop", {"before_apply": True}),
    ("chat", "500", {}),
    ("state", "429", {"retry_after": "0"}),
    ("state", "500", {}),
    ("state", "drop", {"after_apply": True}),
    ("state", "garbage", {}),
    ("credits", "500", {}),
    ("credits", "garbage", {}),
    ("export", "429", {"retry_after": "0"}),
    ("export", "500", {}),
    ("export", "drop", {"after_apply": True}),
    ("export", "garbage", {}),
    ("export", "1001", {}),
    ("poll", "429", {"retry_after": "0"}),
    ("poll", "500", {}),
    ("poll", "drop", {"after_apply": True}),
    ("poll", "garbage", {}),
    ("cdn", "500", {}),
    ("cdn", "drop", {}),
    ("cdn", "truncate", {}),
    ("cdn", "429", {"retry_after": "0"}),
    ("cdn", "lie", {"delta": 64}),
    ("download", "500", {}),
]


def _plan(emu: Emulator, rng: random.Random) -> Counter[tuple[str, str]]:
    planned: Counter[tuple[str, str]] = Counter()
    for route, kind, params in rng.sample(MENU, k=24):
        times = rng.choice([1, 1, 1, 2])
        emu.faults.add(route, kind, times=times, **params)
        planned[(route, kind)] += times
    return planned


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None and path.exists() else None


def _exists(path: Path) -> bool:
    return path.exists()


@pytest.mark.slow
async def test_soak_twenty_flows_with_random_faults(
    tmp_path: Path, outcome_log: OutcomeLog
) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    async with (
        Emulator(
            render_seconds=0.01, starting_credits=100 * FLOWS * 3, seed=SEED,
            clip_seconds=0.2, clip_width=64, clip_height=36, clip_fps=6,
            render_slots=4, heartbeat_every=0.05, no_text_rate=0.3,
        ) as emu,
        NemoClient(
            base_url=emu.url, retry=FAST_RETRY,
            chat_settings=ChatSettings(drop_wait=0.05, poll_interval=0.05, unchanged_reads=3),
            timeouts=Timeouts(connect=5.0, read=5.0, total=10.0),
            render_settings=RenderSettings(poll_interval=0.02),
        ) as nemo,
    ):  # fmt: skip
        planned = _plan(emu, rng)
        outs = [tmp_path / f"flow_{i}.mp4" for i in range(FLOWS)]

        async def flow(i: int) -> Any:
            try:
                return await nemo.generate_and_export(
                    f"a lighthouse in the fog, take {i}", out=outs[i],
                    poll_interval=0.02, render_timeout=15.0,
                )  # fmt: skip
            except NemoError as exc:
                return exc

        results = await asyncio.gather(*(flow(i) for i in range(FLOWS)))
        pending = {p.render_id for p in await nemo.renders.pending()}
        rendered = {rid: _read(rec.path) for rid, rec in emu.renders.items()}

    elapsed = time.monotonic() - started
    done = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    # Every failure is one the API documents (no stray class, nothing untyped).
    assert all(isinstance(e, DOCUMENTED) for e in failed), [repr(e) for e in failed]
    assert len(done) >= FLOWS // 2, f"only {len(done)} of {FLOWS} recovered: {failed!r}"
    assert sum(planned.values()) >= 24
    fired = sum(planned.values()) - sum((f.times or 0) - f.fired for f in emu.faults.pending)
    assert fired >= 10, "the faults must actually have been met"
    outcome_log.record(
        "soak",
        flows=FLOWS,
        seed=SEED,
        completed=len(done),
        failed=dict(Counter(type(e).__name__ for e in failed)),
        faults_planned=sum(planned.values()),
        faults_fired=fired,
        seconds=round(elapsed, 1),
    )

    # Nothing lost: files.
    downloaded = set()
    for out, result in zip(outs, results, strict=True):
        if isinstance(result, BaseException):
            assert not _exists(out), f"{out.name}: a failed flow left a file"
        else:
            assert _read(out) == rendered[result.render.id], f"{out.name} is not its render"
            downloaded.add(result.render.id)
    # Nothing lost: every render on the server is downloaded or journaled.
    assert set(emu.renders) - downloaded <= pending
    assert not downloaded & pending
    # Nothing doubled: no message accepted twice per session, no extra edit.
    by_session: dict[str, list[str]] = {}
    for turn in turns(emu):
        by_session.setdefault(turn.session_id, []).append(turn.message)
    for sid, messages in by_session.items():
        assert len(messages) == len(set(messages)), f"{sid}: a message was re-sent"
        assert emu.store.sessions[sid].applied_edits <= len(messages)
    assert elapsed < 60.0
