"""How soon ``renders.wait`` notices a finished render: adaptive schedule next to a fixed 10 s.

For renders of about 2, 30 and 90 s (emulator ``render_seconds``; its progress is reported
as the render goes, in proportion to the time passed), every render is waited on twice
over, at the same time, by two clients: one on the adaptive schedule (the default), one
polling every 10 s (``RenderSettings(poll_interval=10)``, the old default). Real time, not scaled:
the lag is ``time the SDK returned - time the emulator marked the render completed``, both
read from this process's wall clock. Polls are counted from the emulator's request log,
per render. The budget is one poll per 5 s of render time, plus two (``budget``, render
time rounded down); the schedule keeps it over the wait (until the SDK knows), so a render
just past a 5 s step may take one poll more in render time alone.

Run: ``.venv/bin/python benchmarks/polling.py [--repeat 3] [--lengths 2 30 90]``
(about the longest length plus a few seconds: everything runs at once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from nemo_sdk import NemoClient, RenderSettings
from nemo_sdk.emulator import Emulator

DRAFT = {"t": [{"tt": 7, "sg": [{"d": 1000, "m": {"text": "poll me"}}]}]}
SCHEDULES: dict[str, dict[str, Any]] = {
    "adaptive": {},
    "fixed 10 s": {"render_settings": RenderSettings(poll_interval=10.0)},
}


async def one(emu: Emulator, schedule: str) -> dict[str, Any]:
    async with NemoClient(base_url=emu.url, journal_path=False, **SCHEDULES[schedule]) as nemo:
        session = await nemo.sessions.create()
        emu.set_draft(session.id, DRAFT)
        job = await nemo.renders.export(session.id, width=64, height=36, fps=4)
        job = await nemo.renders.wait(job.id, timeout=600)
        known = time.time()
    record = emu.renders[job.id]
    polls = sum(1 for r in emu.requests if r.route == "poll" and job.id in r.path)
    length = record.completed_at - record.created_at
    return {
        "schedule": schedule,
        "lag": known - record.completed_at,
        "polls": polls,
        "render_s": length,
        "budget": int(length / 5) + 2,
    }


async def main(lengths: list[float], repeat: int) -> None:
    emulators = {
        length: Emulator(render_seconds=length, render_slots=4 * repeat * len(SCHEDULES))
        for length in lengths
    }
    for emu in emulators.values():
        await emu.start()
    try:
        runs = [
            (length, one(emu, schedule))
            for length, emu in emulators.items()
            for schedule in SCHEDULES
            for _ in range(repeat)
        ]
        results = await asyncio.gather(*(run for _, run in runs))
    finally:
        for emu in emulators.values():
            await emu.stop()
    print(f"{repeat} render(s) per row, all at once; lag = SDK knows - render completed")
    print(
        f"{'render':>7} {'schedule':<11} {'median lag s':>12} {'max lag s':>9} "
        f"{'polls (median)':>14} {'budget':>6}"
    )
    for length in lengths:
        for schedule in SCHEDULES:
            rows = [
                r
                for (n, _), r in zip(runs, results, strict=True)
                if n == length and r["schedule"] == schedule
            ]
            lags = [r["lag"] for r in rows]
            polls = statistics.median(r["polls"] for r in rows)
            budget = min(r["budget"] for r in rows)
            print(
                f"{length:>6g}s {schedule:<11} {statistics.median(lags):>12.2f} "
                f"{max(lags):>9.2f} {polls:>14g} {budget:>6}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lengths", type=float, nargs="+", default=[2.0, 30.0, 90.0])
    args = parser.parse_args()
    asyncio.run(main(args.lengths, args.repeat))
