"""``GenerateResult.credits_spent`` is the run's own cost, or ``None``: never a wrong number."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import NemoClient, RenderSettings
from nemo_sdk._rules.spend import watch_spend
from nemo_sdk.emulator import Emulator

pytest.importorskip("av")


@contextlib.asynccontextmanager
async def _tiny_client(tmp_path: Path, **knobs: Any) -> AsyncIterator[NemoClient]:
    """A client of an emulator rendering 64x36 in 50 ms, polled every 20 ms."""
    async with Emulator(
        render_seconds=0.05, clip_width=64, clip_height=36, canvas_width=64, canvas_height=36,
        **knobs,
    ) as emu, NemoClient(
        base_url=emu.url, render_settings=RenderSettings(poll_interval=0.02),
        client_id_path=tmp_path / "cid",
        journal_path=False,
    ) as nemo:  # fmt: skip
        yield nemo


async def test_one_run_reports_its_cost(tmp_path: Path) -> None:
    async with _tiny_client(tmp_path) as nemo:
        result = await nemo.generate_and_export("a kite", tmp_path / "k.mp4")
    assert result.credits_spent == 100


async def test_two_runs_at_once_never_report_each_others_cost(tmp_path: Path) -> None:
    async with _tiny_client(tmp_path, starting_credits=1000) as nemo:
        results = await asyncio.gather(
            nemo.generate_and_export("a kite", tmp_path / "a.mp4"),
            nemo.generate_and_export("a boat", tmp_path / "b.mp4"),
        )
    assert [r.credits_spent for r in results] == [None, None]  # was [200, 200]


def test_the_watch_marks_overlapping_runs() -> None:
    client = object.__new__(type("C", (), {}))
    with watch_spend(client) as first:
        assert first.spent(300, 200) == 100
        with watch_spend(client) as second:
            pass
        assert not first.alone and not second.alone
    with watch_spend(client) as third:
        assert third.alone and third.spent(None, 5) is None


async def test_batch_progress_says_which_item_it_belongs_to(tmp_path: Path) -> None:
    from nemo_sdk.progress import Progress

    heard: list[Progress] = []
    (tmp_path / "out").mkdir()
    async with _tiny_client(tmp_path, starting_credits=1000) as nemo:
        results = await nemo.batch(
            ["a kite", "a boat"], out_dir=tmp_path / "out", on_progress=heard.append
        )
    assert all(r.ok for r in results)
    for index in (0, 1):
        done = [p for p in heard if p.item == index and p.phase == "done"]
        assert len(done) == 1 and done[0].render_id == results[index].result.render.id
    assert {p.item for p in heard} == {0, 1}
