"""Anonymous tokens kept between runs, per API URL (the opt-in ``token_cache`` option).

API.md, "POST /api/auth/anonymous-token": one token per client id per 7 days, and
the client id is persisted. A program that runs twice in a week asks again with the
same id, and a service that enforces the rule strictly refuses it (429): only the
token got earlier keeps such a program working. The vendor's skill stores no
credentials locally, so this is off unless asked for (``token_cache=True``,
``NEMO_TOKEN_CACHE``); the ``nemo`` command turns it on.

Only anonymous tokens the client fetched itself are written, owner-only (0600) like
the client id and replaced atomically; a token the user supplied never is. A cache
that cannot be read or written is no error: the client then asks the service.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .models.session import AnonymousToken

__all__ = ["CachedToken", "TokenCache"]

# Renew a day early rather than start a long generation with a token about to expire.
_MARGIN = 24 * 3600.0


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def load(self, api_url: str) -> CachedToken | None:
        """The token kept for ``api_url`` and its user id, unless it is (nearly) expired."""
        entry = self._read().get(api_url)
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        expires = entry.get("expires_at")
        if isinstance(expires, (int, float)) and expires - _MARGIN < time.time():
            return None
        user_id = entry.get("user_id")
        return CachedToken(entry["token"], user_id if isinstance(user_id, str) else None)

    def save(self, api_url: str, token: AnonymousToken) -> None:
        """Keep ``token`` for ``api_url``; a cache that cannot be written is no error."""
        data = self._read()
        expires = token.expires_at.timestamp() if token.expires_at is not None else None
        data[api_url] = {"token": token.token, "user_id": token.user_id, "expires_at": expires}
        with contextlib.suppress(OSError):
            self._write(data)

    def forget(self, api_url: str, token: str | None = None) -> None:
        """Drop the token kept for ``api_url`` (only if it is ``token``, when given)."""
        data = self._read()
        entry = data.get(api_url)
        if entry is None:
            return
        # Another process may have kept a newer token meanwhile: that one stays.
        if token is not None and isinstance(entry, dict) and entry.get("token") != token:
            return
        del data[api_url]
        with contextlib.suppress(OSError):
            self._write(data)

    def __repr__(self) -> str:
        return f"TokenCache({str(self.path)!r})"
