"""The anonymous token the ``nemo`` command got, kept between runs.

API.md, "POST /api/auth/anonymous-token": one token per client id per 7 days.
A library call lives in one process, but every ``nemo`` command is a new
process: without this file, ``nemo sessions create`` then ``nemo chat <id>``
would each ask for a token (the second refused, or owning other sessions).
Tokens are kept per API URL in ``$XDG_CONFIG_HOME/nemovideo/cli_tokens.json``,
owner-only like the client id, and only anonymous ones: a token the user set
(``NEMO_TOKEN``, ``--token``) is never written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from ..config import default_config_dir
from ..models.session import AnonymousToken

__all__ = ["TokenCache"]

# Renew a day early rather than start a long generation with a token about to expire.
_MARGIN = 24 * 3600.0


class TokenCache:
    """Anonymous tokens by API URL (see the module docstring)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_config_dir() / "cli_tokens.json"

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

    def load(self, api_url: str) -> str | None:
        """The token kept for ``api_url``, unless it is (nearly) expired."""
        entry = self._read().get(api_url)
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        expires = entry.get("expires_at")
        if isinstance(expires, (int, float)) and expires - _MARGIN < time.time():
            return None
        return str(entry["token"])

    def save(self, api_url: str, token: AnonymousToken) -> None:
        """Keep ``token`` for ``api_url``; a cache that cannot be written is no error."""
        data = self._read()
        expires = token.expires_at.timestamp() if token.expires_at is not None else None
        data[api_url] = {"token": token.token, "user_id": token.user_id, "expires_at": expires}
        with contextlib.suppress(OSError):
            self._write(data)

    def forget(self, api_url: str) -> None:
        """Drop the token kept for ``api_url`` (the service refused it)."""
        data = self._read()
        if data.pop(api_url, None) is not None:
            with contextlib.suppress(OSError):
                self._write(data)

    def __repr__(self) -> str:
        return f"TokenCache({str(self.path)!r})"
