"""The render job journal: every export is written down until its file is downloaded.

API.md ("GET /api/render/proxy/lambda/<id>") warns that closing the client
before a render completes orphans the job; the render id is all a later
process needs to resume, so the id is stored here *before* the export request
is sent, and removed once the file is on disk (or the job failed).

The journal is a small SQLite file (stdlib ``sqlite3``) in the config
directory, shared by every client and process of the user; each entry names
the API URL it belongs to, so a client lists only the renders it can fetch.

Its I/O never runs on the event loop: each write goes to a worker thread.
When another process holds the file locked, the write is kept in memory (and
shown by :meth:`Journal.pending`) and retried in the background until it
lands, so a busy journal neither stalls the program nor drops a render. It is
a convenience, never a reason to fail: an unusable journal is logged once and
its entries live in memory only. A journal file removed under a running
client is made again (owner-only).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.logging import logger
from ..models.render import PendingRender

if TYPE_CHECKING:
    import sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS renders (
    render_id  TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    output_url TEXT,
    path       TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    api_url    TEXT
)
"""
_FIELDS = (
    "render_id", "session_id", "status", "output_url", "path", "created_at", "updated_at",
)  # fmt: skip
_COLUMNS = ("status", "output_url", "path")  # what update() may change
_EXIT_WAIT = 5.0


def absolute(path: str | os.PathLike[str]) -> str:
    """``path`` made absolute against the current directory, as the journal stores it."""
    return os.path.abspath(os.fspath(path))


@dataclass(frozen=True)
class _Op:
    """One journal change: ``record`` (values: every column), ``update`` or ``forget``."""

    kind: str
    render_id: str
    values: dict[str, Any] = field(default_factory=dict)


class _Busy(Exception):
    """Another connection holds the file locked; the change waits."""


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Journal:
    """Pending exports in ``path`` (see the module docstring).

    Args:
        path: the SQLite file.
        scope: the API URL whose renders this client lists (``None``: every entry).
        busy_timeout: seconds a worker thread waits for another process's lock
            before the change is kept in memory and retried in the background.
        retry_delay: the first pause between background retries (it doubles to 1 s).
        read_timeout: seconds :meth:`pending` waits for a lock (in a thread) before it
            lists what this process keeps in memory only.
    """

    def __init__(
        self,
        path: Path,
        *,
        scope: str | None = None,
        busy_timeout: float = 2.0,
        retry_delay: float = 0.05,
        read_timeout: float = 10.0,
    ) -> None:
        self.path = path
        self.scope = scope
        self.busy_timeout = busy_timeout
        self.retry_delay = retry_delay
        self.read_timeout = read_timeout
        self._schema_on: tuple[int, int] | None = None  # (device, inode) the schema is on
        self._warned = False
        self._backlog: list[_Op] = []  # changes not yet on disk, in order
        self._backlog_lock = threading.Lock()  # held for list edits only, never during I/O
        self._write_lock = threading.Lock()  # one writer thread per journal at a time
        self._retrier: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- public (async)

    async def record(
        self, render_id: str, session_id: str, status: str = "submitting", path: str | None = None
    ) -> None:
        """Write down an export about to be sent (``path``: where its file will go)."""
        now = time.time()
        values = {
            "session_id": session_id, "status": status, "output_url": None,
            "path": None if path is None else absolute(path), "created_at": now,
            "updated_at": now, "api_url": self.scope,
        }  # fmt: skip
        await self._change(_Op("record", render_id, values))

    async def update(self, render_id: str, **fields: str | None) -> None:
        """Change ``status``, ``output_url`` or ``path`` of a recorded export (others ignored)."""
        known = {k: v for k, v in fields.items() if k in _COLUMNS and v is not None}
        if "path" in known and known["path"] is not None:
            known["path"] = absolute(known["path"])
        if known:
            await self._change(_Op("update", render_id, {**known, "updated_at": time.time()}))

    async def forget(self, render_id: str) -> None:
        """Remove an export: downloaded, failed, cancelled, or never accepted."""
        await self._change(_Op("forget", render_id))

    async def pending(self) -> list[PendingRender]:
        """Every export of this scope, oldest first: on disk, and still waiting in memory."""
        rows = await asyncio.to_thread(self._read)
        with self._backlog_lock:
            backlog = list(self._backlog)
        entries = {row["render_id"]: row for row in rows}
        for op in backlog:
            if op.kind == "forget":
                entries.pop(op.render_id, None)
            elif op.kind == "record":
                if self._in_scope(op.values.get("api_url")):
                    entries[op.render_id] = {"render_id": op.render_id, **op.values}
            elif op.render_id in entries:
                entries[op.render_id] = {**entries[op.render_id], **op.values}
        ordered = sorted(entries.values(), key=lambda e: (e["created_at"], e["render_id"]))
        return [PendingRender(**{k: e.get(k) for k in _FIELDS}) for e in ordered]

    async def flush(self) -> bool:
        """Try to write what waits in memory now; ``True`` when nothing is left waiting."""
        return await asyncio.to_thread(self._flush, self.busy_timeout)

    @property
    def waiting(self) -> int:
        """Changes kept in memory because the file was busy or unusable."""
        with self._backlog_lock:
            return len(self._backlog)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # ---------------------------------------------------------------- changes

    async def _change(self, op: _Op) -> None:
        with self._backlog_lock:
            self._backlog.append(op)
        if self._retrier is not None and not self._retrier.done():
            return  # the file is busy: the background writer takes this one too, in order
        if not await asyncio.to_thread(self._flush, self.busy_timeout):
            self._start_retrier()

    def _start_retrier(self) -> None:
        if self._retrier is None or self._retrier.done():
            self._retrier = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        delay = self.retry_delay
        try:
            while True:
                await asyncio.sleep(delay)
                if await asyncio.to_thread(self._flush, self.busy_timeout):
                    return
                delay = min(1.0, delay * 2)
        except asyncio.CancelledError:
            # The loop is closing (asyncio.run cancels what is left): one last attempt,
            # waiting up to 5 s, so a render is not dropped because the journal was busy
            # at exit. It blocks the loop, which has nothing left to run.
            self._flush(max(self.busy_timeout, _EXIT_WAIT))
            raise

    def _flush(self, timeout: float) -> bool:
        """Write the backlog in one transaction (in a worker thread). ``False``: still busy."""
        with self._write_lock:
            with self._backlog_lock:
                ops = list(self._backlog)
            if not ops:
                return True
            try:
                with self._db(timeout) as db:
                    for op in ops:
                        _apply(db, op)
            except _Busy as exc:
                self._warn(f"busy ({exc}); {len(ops)} change(s) kept in memory, retrying")
                return False
            except (OSError, _sqlite_error()) as exc:
                if _is_busy(exc):
                    self._warn(f"busy ({exc}); {len(ops)} change(s) kept in memory, retrying")
                    return False
                self._warn(f"unusable ({exc}); its entries are kept in memory only")
                return True  # nothing a retry would change; the next change tries again
            with self._backlog_lock:
                del self._backlog[: len(ops)]
            self._warned = False  # it works again: a later problem is worth a warning
            return True

    def _read(self) -> list[dict[str, Any]]:
        # A read may wait longer than a write: it runs in a worker thread, and an
        # empty list would tell the caller that nothing is pending.
        sql = f"SELECT {', '.join(_FIELDS)} FROM renders"
        params: tuple[Any, ...] = ()
        if self.scope is not None:
            # Entries from before the journal named its API URL could be anyone's: listed.
            sql += " WHERE api_url = ? OR api_url IS NULL"
            params = (self.scope,)
        try:
            with self._db(self.read_timeout, write=False) as db:
                rows = db.execute(sql, params).fetchall()
        except (_Busy, OSError, _sqlite_error()) as exc:
            self._warn(f"unreadable ({exc}); listing the entries kept in memory only")
            return []
        return [dict(zip(_FIELDS, row, strict=True)) for row in rows]

    def _in_scope(self, api_url: object) -> bool:
        return self.scope is None or api_url is None or api_url == self.scope

    def _warn(self, what: str) -> None:
        # Warn once: a wait polls every few seconds and must not flood the log.
        log = logger.debug if self._warned else logger.warning
        self._warned = True
        log("render journal %s %s", self.path, what)

    # ---------------------------------------------------------------- the file

    @contextlib.contextmanager
    def _db(self, timeout: float, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        import sqlite3  # here, not at the top: most programs never export, and it is not free

        key = self._ensure_file()
        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            if key != self._schema_on:
                # A new file, or one removed and made again under a running client.
                db.execute(_SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(renders)")}
                if "api_url" not in columns:  # a journal written by an older version
                    try:
                        db.execute("ALTER TABLE renders ADD COLUMN api_url TEXT")
                    except sqlite3.OperationalError as exc:
                        if "duplicate column" not in str(exc):  # another process won the race
                            raise
                self._schema_on = key
            # A writer takes the lock up front: no deadlock between two upgrading readers.
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _Busy(str(exc)) from None
            raise
        finally:
            db.close()

    def _ensure_file(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Render and session ids are the user's: owner-only, like the client id.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            st = os.stat(self.path)
        return (st.st_dev, st.st_ino)


def _sqlite_error() -> type[Exception]:
    import sqlite3

    return sqlite3.Error


def _apply(db: sqlite3.Connection, op: _Op) -> None:
    if op.kind == "record":
        columns = ("render_id", *op.values)
        db.execute(
            f"INSERT OR REPLACE INTO renders ({', '.join(columns)}) "  # names are ours
            f"VALUES ({', '.join('?' * len(columns))})",
            (op.render_id, *op.values.values()),
        )
    elif op.kind == "update":
        sets = ", ".join(f"{k} = ?" for k in op.values)  # keys come from _COLUMNS only
        db.execute(
            f"UPDATE renders SET {sets} WHERE render_id = ?", (*op.values.values(), op.render_id)
        )
    else:
        db.execute("DELETE FROM renders WHERE render_id = ?", (op.render_id,))
