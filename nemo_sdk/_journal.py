"""The render job journal: every export is written down until its file is downloaded.

API.md ("GET /api/render/proxy/lambda/<id>") warns that closing the client
before a render completes orphans the job; the render id is all a later
process needs to resume, so the id is stored here *before* the export request
is sent, and removed once the file is on disk (or the job failed).

The journal is a small SQLite file (stdlib ``sqlite3``) in the config
directory. It is a convenience, never a reason to fail: an unwritable journal
is logged and ignored. Each operation opens its own connection, so several
clients and processes can share one file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._logging import logger
from .models.render import PendingRender

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
    updated_at REAL NOT NULL
)
"""
_COLUMNS = ("status", "output_url", "path")


class Journal:
    """Pending exports in ``path`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        self._warned = False

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        import sqlite3  # here, not at the top: most programs never export, and it is not free

        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Render and session ids are the user's: owner-only, like the client id.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            if not self._ready:
                db.execute(_SCHEMA)
                self._ready = True
            yield db

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import sqlite3

        try:
            with self._db() as db:
                return db.execute(sql, params).fetchall()
        except (sqlite3.Error, OSError) as exc:
            # Warn once: a wait polls every few seconds and must not flood the log.
            log = logger.debug if self._warned else logger.warning
            self._warned = True
            log("render journal %s unusable (%s); continuing without it", self.path, exc)
            return []

    def record(self, render_id: str, session_id: str, status: str = "submitting") -> None:
        """Write down an export about to be sent."""
        now = time.time()
        self._run(
            "INSERT OR REPLACE INTO renders (render_id, session_id, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?)",
            (render_id, session_id, status, now, now),
        )

    def update(self, render_id: str, **fields: str | None) -> None:
        """Change ``status``, ``output_url`` or ``path`` of a recorded export (others ignored)."""
        known = {k: v for k, v in fields.items() if k in _COLUMNS and v is not None}
        if not known:
            return
        sets = ", ".join(f"{k} = ?" for k in known)  # keys come from _COLUMNS only
        self._run(
            f"UPDATE renders SET {sets}, updated_at = ? WHERE render_id = ?",
            (*known.values(), time.time(), render_id),
        )

    def forget(self, render_id: str) -> None:
        """Remove an export: downloaded, failed, cancelled, or never accepted."""
        self._run("DELETE FROM renders WHERE render_id = ?", (render_id,))

    def pending(self) -> list[PendingRender]:
        """Every recorded export, oldest first."""
        rows = self._run(
            "SELECT render_id, session_id, status, output_url, path, created_at, updated_at "
            "FROM renders ORDER BY created_at, render_id"
        )
        names = (
            "render_id", "session_id", "status", "output_url", "path", "created_at", "updated_at",
        )  # fmt: skip
        return [PendingRender(**dict(zip(names, row, strict=True))) for row in rows]

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"
