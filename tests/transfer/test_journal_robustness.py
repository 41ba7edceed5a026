"""The job journal under pressure: locked by another process, removed, shared between
services; and the entries it keeps (absolute paths, a completed render's cancel)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemo_sdk import NemoClient
from nemo_sdk._files.journal import Journal
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY, export_rendered
from .conftest import seed_draft


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "journal.sqlite3"


@pytest.fixture
async def nemo(emulator: Emulator, journal_path: Path) -> AsyncIterator[NemoClient]:
    async with NemoClient(
        base_url=emulator.url, retry=FAST_RETRY, journal_path=journal_path
    ) as client:
        yield client


def on_disk(path: Path) -> dict[str, str | None]:
    """What another process reads in the journal: ``{render_id: path}``."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT render_id, path FROM renders").fetchall())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def api_urls(path: Path) -> dict[str, str | None]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT render_id, api_url FROM renders").fetchall())


_LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")  # another process, mid-write
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


class LoopLag:
    """The longest the event loop went without running a 10 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            self._last = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - self._last - 0.01)

    def __enter__(self) -> LoopLag:
        self._last = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        # A stall that ends with the block is not yet measured by the ticker.
        self.worst = max(self.worst, time.monotonic() - self._last - 0.01)


async def test_a_locked_journal_neither_blocks_the_loop_nor_drops_the_render(
    nemo: NemoClient, emulator: Emulator, journal_path: Path
) -> None:
    sid = (await nemo.sessions.create()).id
    assert await nemo.renders.pending() == []  # the journal file exists
    journal = nemo.renders.journal
    assert journal is not None
    journal.busy_timeout = 0.3  # what a write waits for the lock (in a thread) before queueing
    journal.read_timeout = 0.3
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _LOCKER, str(journal_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert await asyncio.wait_for(locker.stdout.readline(), 30) == b"locked\n"
        with LoopLag() as lag:
            started = time.monotonic()
            job = await nemo.renders.export(sid, seed_draft())
            took = time.monotonic() - started
        print(f"worst loop lag {lag.worst * 1000:.1f} ms, export took {took:.2f} s")
        assert lag.worst < 0.25, f"the event loop stalled {lag.worst:.2f} s"
        assert took < 3.0
        assert emulator.count("export") == 1
        assert journal.waiting > 0  # kept in memory while the file is locked
        assert job.id in {p.render_id for p in await journal.pending()}  # listed from memory
    finally:
        locker.stdin.write(b"go\n")
        await locker.stdin.drain()
        await asyncio.wait_for(locker.wait(), 30)
    for _ in range(500):  # the background writer lands it once the lock is gone
        # Both: the writer commits first and clears its backlog just after.
        if job.id in on_disk(journal_path) and journal.waiting == 0:
            break
        await asyncio.sleep(0.01)
    assert job.id in on_disk(journal_path)
    assert journal.waiting == 0
    assert [p.render_id for p in await Journal(journal_path).pending()] == [job.id]


async def test_a_removed_journal_is_made_again_owner_only(
    nemo: NemoClient, emulator: Emulator, journal_path: Path
) -> None:
    sid = (await nemo.sessions.create()).id
    first = await nemo.renders.export(sid, seed_draft())
    assert first.id in on_disk(journal_path)
    os.remove(journal_path)  # a cleanup script, a user tidying ~/.config
    second = await nemo.renders.export(sid, seed_draft())
    assert second.id in on_disk(journal_path)
    assert mode_of(journal_path) == 0o600
    assert [p.render_id for p in await nemo.renders.pending()] == [second.id]


async def test_cancel_answered_completed_keeps_the_entry(
    nemo: NemoClient, emulator: Emulator
) -> None:
    sid = (await nemo.sessions.create()).id
    rid = await export_rendered(nemo, emulator, sid, seed_draft())
    # The render finished just before the cancel reached it: the file is still to fetch.
    body = {"success": True, "data": {"id": rid, "status": "completed", "progress": 100}}
    emulator.faults.add("cancel", "garbage", body=body)
    job = await nemo.renders.cancel(rid)
    assert job.succeeded
    assert [p.render_id for p in await nemo.renders.pending()] == [rid]


async def test_cancel_of_a_running_render_drops_the_entry(
    nemo: NemoClient, emulator: Emulator
) -> None:
    sid = (await nemo.sessions.create()).id
    emulator.knobs = dataclasses.replace(emulator.knobs, render_seconds=30)
    job = await nemo.renders.export(sid, seed_draft())
    await nemo.renders.cancel(job.id)
    assert await nemo.renders.pending() == []


async def test_paths_are_absolute_and_recorded_at_export_time(
    nemo: NemoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    sid = (await nemo.sessions.create()).id
    job = await nemo.renders.export(sid, seed_draft(), download_to="clips/out.mp4")
    (entry,) = await nemo.renders.pending()
    assert entry.path == str(tmp_path / "clips" / "out.mp4")
    assert on_disk(journal_path)[job.id] == entry.path  # before any download started


async def test_pending_lists_only_this_api_url_and_forget_drops_an_entry(
    nemo: NemoClient, emulator: Emulator, journal_path: Path
) -> None:
    sid = (await nemo.sessions.create()).id
    job = await nemo.renders.export(sid, seed_draft())
    assert api_urls(journal_path)[job.id] == str(nemo.config.api_url)
    async with NemoClient(base_url="http://127.0.0.1:9/", journal_path=journal_path) as other:
        assert await other.renders.pending() == []  # renders it could never fetch
        await other.renders.forget(job.id)  # any client may drop an entry by its id
    assert await nemo.renders.pending() == []
    assert job.id not in on_disk(journal_path)
    assert emulator.count("poll") == 0 and emulator.count("cancel") == 0  # nothing sent


async def test_an_older_journal_gains_the_api_url_column(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    with sqlite3.connect(journal_path) as db:
        db.execute(
            "CREATE TABLE renders (render_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, "
            "status TEXT NOT NULL, output_url TEXT, path TEXT, created_at REAL NOT NULL, "
            "updated_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO renders VALUES ('render_old', 's', 'pending', NULL, NULL, 1, 1)")
    journal = Journal(journal_path, scope="http://a/")
    await journal.record("render_new", "s")
    # The old entry names no service: listed everywhere until it is downloaded or forgotten.
    assert [p.render_id for p in await journal.pending()] == ["render_old", "render_new"]
    assert [p.render_id for p in await Journal(journal_path, scope="http://b/").pending()] == [
        "render_old"
    ]


def test_a_change_still_waiting_at_exit_is_written_before_the_loop_closes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = Journal(path)
    asyncio.run(first.record("render_early", "s"))  # the file and its table exist
    # Another process holds the lock for a moment, past the program's own end.
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdout is not None and locker.stdin is not None
    assert locker.stdout.readline() == b"locked\n"
    threading.Timer(1.0, lambda: (locker.stdin.write(b"go\n"), locker.stdin.flush())).start()  # type: ignore[union-attr]
    journal = Journal(path, busy_timeout=0.1)

    async def main() -> None:
        await journal.record("render_late", "s")
        assert journal.waiting == 1  # busy: kept in memory; the program ends now

    asyncio.run(main())
    locker.wait(30)
    assert set(on_disk(path)) == {"render_early", "render_late"}
