"""Anonymous tokens kept between runs, per API URL (the opt-in ``token_cache`` option).

API.md, "POST /api/auth/anonymous-token": one token per client id per 7 days, and
the client id is persisted. A program that runs twice in a week asks again with the
same id, and a service that enforces the rule strictly refuses it (429): only the
token got earlier keeps such a program working. The vendor's skill stores no
credentials locally, so this is off unless asked for (``token_cache=True``,
``NEMO_TOKEN_CACHE``); the ``nemo`` command turns it on.

Only anonymous tokens the client fetched itself are written, owner-only (0600) like
the client id and replaced atomically; a token the user supplied never is. A cache
that cannot be read or written is no error: the client then asks the service, and
keeps the token in memory (one warning says so). Writers take a lock file in turn
(``fcntl.flock``), so that processes saving at once lose no entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .._util.logging import warn_once

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: writes stay atomic, not serialised
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ..models.session import AnonymousToken

__all__ = ["CachedToken", "TokenCache"]

# ``expires_at`` is the service's word: trusted up to a clock-skew margin between this
# machine and the service (a day's margin refused live tokens, then blamed the cache).
SKEW_MARGIN = 60.0
# How long a writer waits for another process's write before giving up on its own.
LOCK_WAIT = 5.0
_LOCK_POLL = 0.01


class CachedToken(NamedTuple):
    """A kept token and the anonymous user it belongs to."""

    token: str
    user_id: str | None

    def __repr__(self) -> str:
        return f"CachedToken(token=<hidden>, user_id={self.user_id!r})"


class TokenCache:
    """Anonymous tokens by API URL, in one JSON file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path  # resolved by ClientConfig (the ``token_cache`` option)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the cache's lock file, so that writers read-modify-write one at a time.

        Without it two processes saving at once each write back what they read, and
        one's entry is lost. Readers need no lock: the file is replaced atomically.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        lock = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{lock} is held by another process") from None
                    time.sleep(_LOCK_POLL)
            yield  # closing the descriptor releases the lock
        finally:
            os.close(fd)

    def _update(self, change: Callable[[dict[str, Any]], bool]) -> None:
        """Apply ``change`` to the kept tokens under the lock; write them if it says so."""
        try:
            with self._locked():
                data = self._read()
                if change(data):
                    self._write(data)
        except OSError as exc:  # TimeoutError included
            warn_once(
                "token cache",
                str(self.path),
                "cannot write the token cache %s (%s); the token is kept in memory for "
                "this run only",
                self.path,
                f"{type(exc).__name__}: {exc.strerror or exc}",
            )

    def load(self, api_url: str) -> CachedToken | None:
        """The token kept for ``api_url`` and its user id, unless it has expired."""
        entry = self._read().get(api_url)
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        expires = entry.get("expires_at")
        if isinstance(expires, (int, float)) and expires - SKEW_MARGIN < time.time():
            return None
        user_id = entry.get("user_id")
        return CachedToken(entry["token"], user_id if isinstance(user_id, str) else None)

    def save(self, api_url: str, token: AnonymousToken) -> None:
        """Keep ``token`` for ``api_url``; a cache that cannot be written is no error.

        Blocking (a file lock): the token manager runs it in a worker thread.
        """
        expires = token.expires_at.timestamp() if token.expires_at is not None else None
        entry = {"token": token.token, "user_id": token.user_id, "expires_at": expires}

        def put(data: dict[str, Any]) -> bool:
            data[api_url] = entry
            return True

        self._update(put)

    def forget(self, api_url: str, token: str | None = None) -> None:
        """Drop the token kept for ``api_url`` (only if it is ``token``, when given)."""

        def drop(data: dict[str, Any]) -> bool:
            entry = data.get(api_url)
            if entry is None:
                return False
            # Another process may have kept a newer token meanwhile: that one stays.
            if token is not None and isinstance(entry, dict) and entry.get("token") != token:
                return False
            del data[api_url]
            return True

        self._update(drop)

    def __repr__(self) -> str:
        return f"TokenCache({str(self.path)!r})"
