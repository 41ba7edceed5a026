"""The fault matrix's harness: one emulator and client per case, and the outcome log.

Each case of ``test_matrix.py`` runs one operation against a fresh emulator on
127.0.0.1 with one planned fault, and records what happened (outcome, typed
error, requests per route) in the session's :class:`OutcomeLog`. When the
environment variable ``NEMO_RELIABILITY_OUT`` names a file, the log is written
there as JSON at the end of the run: ``scripts/reliability_report.py`` turns it
into ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import pytest
from PIL import Image

from nemo_sdk import ChatSettings, Timeouts, testing

OUT_ENV = "NEMO_RELIABILITY_OUT"

# A draft that renders in a few tens of milliseconds (a 0.2 s title on a tiny canvas).
TINY_DRAFT: dict[str, Any] = {
    "m": {"title": "fault matrix", "width": 64, "height": 36},
    "t": [{"tt": 7, "sg": [{"d": 200, "m": {"text": "x"}}]}],
}
EDIT = "add a title 'Faults' for 2 s"
# Past these, a ``slow`` answer (``SLOW_DELAY``) has timed out; used for the slow cases only.
SLOW_TIMEOUTS = Timeouts(connect=2.0, read=0.08, total=0.15)
FAST_CHAT = ChatSettings(
    drop_wait=0.0,
    poll_interval=0.0,
    unchanged_reads=2,
    heartbeat_timeout=5.0,
    overall_cap=10.0,
    still_working_every=60.0,
)


@dataclass
class OutcomeLog:
    """What each matrix case did, by test id."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, case_id: str, **fields: Any) -> None:
        self.cases[case_id] = fields


@pytest.fixture(scope="session")
def outcome_log() -> Iterator[OutcomeLog]:
    log = OutcomeLog()
    yield log
    out = os.environ.get(OUT_ENV)
    if out:
        Path(out).write_text(json.dumps(log.cases, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def still_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults-media") / "still.png"
    Image.new("RGB", (32, 18), (40, 120, 200)).save(path)
    return path


@attrs.define
class Rig(testing.Rig):
    """A fresh emulator, a client on it, and the ids a case's setup made."""

    tmp: Path = attrs.field(kw_only=True)
    render_id: str = ""

    def counts(self) -> Counter[tuple[str, str]]:
        """Requests so far per ``(origin, route)``."""
        return Counter((r.origin, r.route) for r in self.emu.requests)

    async def render_ready(self) -> str:
        """Export the tiny draft through the SDK (journaled) and wait, server-side, for it."""
        self.render_id = await self.rendered(TINY_DRAFT)
        return self.render_id


@asynccontextmanager
async def make_rig(
    tmp: Path, *, timeouts: Timeouts | None = None, **knobs: Any
) -> AsyncIterator[Rig]:
    knobs.setdefault("starting_credits", 1000)
    knobs.setdefault("no_text_rate", 0.0)
    async with testing.emulator_rig(
        chat=FAST_CHAT, timeouts=timeouts, session=False, **knobs
    ) as base:
        yield Rig(base.emu, base.nemo, base.sleep, tmp=tmp)
