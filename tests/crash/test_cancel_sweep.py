"""``generate_and_export`` cancelled at every await point it passes, one run per point.

A first run counts the workflow's suspensions (``Suspensions``); then run k cancels
the task exactly at its k-th suspension. Each time: ``CancelledError`` (never a
result, never swallowed), nothing at ``out`` but the render's own bytes (a cancel
that lands after the file was placed keeps it, and the render is then done), no
``.part`` file the journal does not point at (a partial download is kept for
resume only when the journal says where), and every render the emulator accepted
for this run in the journal unless its file is at ``out``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import NemoClient, RenderSettings
from nemo_sdk.testing import FAST_CHAT, FAST_RETRY, emulator_available

from .sweep import Point, Suspensions

pytestmark = [
    pytest.mark.crash,
    pytest.mark.slow,
    pytest.mark.skipif(not emulator_available(), reason="needs the emulator extra"),
]

KNOBS: dict[str, Any] = {
    "render_seconds": 0.0,
    "clip_seconds": 0.2,
    "clip_width": 64,
    "clip_height": 36,
    "clip_fps": 6,
    "canvas_width": 64,
    "canvas_height": 36,
    "heartbeat_every": 0.2,
    "no_text_rate": 0.0,
}


@pytest.fixture
async def emu() -> AsyncIterator[Any]:
    from nemo_sdk.emulator import Emulator

    async with Emulator(starting_credits=1000, tokens_per_ip=100_000, **KNOBS) as emulator:
        yield emulator


def _client(emu: Any, home: Path) -> NemoClient:
    return NemoClient(
        base_url=emu.url,
        client_id_path=home / "client_id",
        journal_path=home / "renders.sqlite3",
        render_settings=RenderSettings(poll_interval=0.001),
        retry=FAST_RETRY,
        chat_settings=FAST_CHAT,
    )


async def _run(emu: Any, home: Path, cancel_at: Point | None) -> tuple[Suspensions[Any], Any]:
    home.mkdir(parents=True)  # noqa: ASYNC240 - a test's own scratch directory
    out = home / "video.mp4"
    async with _client(emu, home) as nemo:
        counted = Suspensions(nemo.generate_and_export("a red fox in snow", out), cancel_at)

        async def drive() -> Any:
            return await counted

        try:
            outcome: Any = await asyncio.create_task(drive())
        except asyncio.CancelledError as exc:
            outcome = exc
        # Let a render the emulator accepted during the run be seen (it renders at once).
        await asyncio.sleep(0)
    return counted, outcome


def _user_renders(emu: Any, home: Path) -> list[Any]:
    client_id = (home / "client_id").read_text().strip() if (home / "client_id").exists() else ""
    token = emu.store.tokens.get(emu.store.client_tokens.get(client_id, ""))
    if token is None:
        return []
    return [r for r in emu.renders.values() if r.user_id == token.user_id]


async def _journal(emu: Any, home: Path) -> dict[str, Any]:
    async with _client(emu, home) as nemo:
        return {p.render_id: p for p in await nemo.renders.pending()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _check(emu: Any, home: Path, counted: Suspensions[Any], outcome: Any) -> list[str]:
    k = " <- ".join((counted.cancel_at or ())[:4])
    problems = []
    if not isinstance(outcome, asyncio.CancelledError):
        problems.append(f"k={k}: the cancel was swallowed, the workflow returned {outcome!r}")
    out = home / "video.mp4"
    renders = _user_renders(emu, home)
    journal = await _journal(emu, home)
    placed = out.exists()
    if placed and not any(r.path and _sha(r.path) == _sha(out) for r in renders):
        problems.append(f"k={k}: {out.name} holds no render's bytes")
    for r in renders:
        done = placed and r.path is not None and _sha(r.path) == _sha(out)
        if r.id not in journal and not done:
            problems.append(f"k={k}: render {r.id} ({r.status}) accepted but not journaled")
    kept = {str(Path(p.path)) for p in journal.values() if p.path}
    for part in home.glob(".*.part"):  # noqa: ASYNC240
        owner = part.name.split(".")[-2]
        if owner not in journal or str(out) not in kept:
            problems.append(f"k={k}: {part.name} left with no journal entry pointing at it")
    return problems


async def test_cancel_at_every_await_point(emu: Any, tmp_path: Path) -> None:
    counted, outcome = await _run(emu, tmp_path / "full", None)
    assert not isinstance(outcome, BaseException), outcome
    points = counted.points
    assert len(points) > 10, points  # a real run passes many await points
    problems: list[str] = []
    missed = []
    for i, point in enumerate(points):
        home = tmp_path / f"p{i}"
        counted, outcome = await _run(emu, home, point)
        if not counted.cancelled:
            missed.append(point)  # a point only some runs pass (a retry, a late poll)
            continue
        problems += await _check(emu, home, counted, outcome)
    assert len(missed) <= len(points) // 10, f"{len(missed)} points not reached: {missed[:5]}"
    message = f"{len(problems)} of {len(points)} cancel points broke:\n" + "\n".join(problems[:30])
    if problems and all("swallowed" in p and "resources/chat.py" in p for p in problems):
        # asyncio.wait_for around the chat stream's reads (Python 3.10/3.11) returns the
        # chunk when it arrives as the task is cancelled: fixed on the chat branch.
        pytest.xfail(f"needs branch chat: {message}")
    assert not problems, f"{len(problems)} of {len(points)} cancel points broke:\n" + "\n".join(
        problems[:30]
    )
