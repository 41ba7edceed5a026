"""The emulator's in-memory world: tokens, users, sessions, drafts, credits."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ALL_SCOPES: tuple[str, ...] = ("read", "write", "upload", "render")
SEVEN_DAYS = 7 * 24 * 3600.0


@dataclass
class User:
    """An account: anonymous (``anon_...``) or registered (``usr_...``)."""

    id: str
    available: int
    frozen: int = 0

    @property
    def anonymous(self) -> bool:
        return self.id.startswith("anon_")


@dataclass
class Token:
    """A bearer token with its owner, scopes and expiry."""

    value: str = field(repr=False)
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float
    client_id: str | None = None
    revoked: bool = False

    def valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


@dataclass
class Session:
    """A project session with its timeline state."""

    id: str
    task_id: str
    user_id: str
    language: str | None
    draft: dict[str, Any] | None = None
    video_infos: list[dict[str, Any]] = field(default_factory=list)
    generated_media: list[dict[str, Any]] = field(default_factory=list)
    canvas: dict[str, Any] = field(
        default_factory=lambda: {"width": 1920, "height": 1080, "aspect_ratio": "16:9"}
    )
    applied_edits: int = 0
    messages: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "video_infos": self.video_infos,
            "generated_media": self.generated_media,
            "canvas_config": self.canvas,
            "video_analyses": [],
            "user_id": self.user_id,
            "language": self.language,
        }


class TokenLimitReached(Exception):
    """The token call hit a limit; ``limit`` names which, ``retry_after`` when it frees."""

    def __init__(self, limit: str, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after


@dataclass
class Store:
    """Everything the emulator remembers. Tests may read and change it directly."""

    starting_credits: int = 100
    anonymous_scopes: tuple[str, ...] = ALL_SCOPES
    token_ttl: float = SEVEN_DAYS
    tokens_per_ip: int = 10
    token_window: float = SEVEN_DAYS
    reissue_client_tokens: bool = True
    # A development server's choice: every token request gets a new token whose user (the
    # client id's, so its sessions and renders stay visible) is topped up to
    # starting_credits: runs of a program never drain one balance without meaning to.
    fresh_client_tokens: bool = False
    clock: Callable[[], float] = time.time
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    issued_by_ip: dict[str, list[float]] = field(default_factory=dict)
    client_tokens: dict[str, str] = field(default_factory=dict)

    def anonymous_token(self, client_id: str, ip: str) -> Token:
        """Issue (or, for a client that holds a live one, return) an anonymous token.

        Emulator choice: one live token per client id; asking again returns it, unless
        ``reissue_client_tokens`` is off: then asking again is refused ("per_client",
        v1.9's one token per client per 7 days) until that token expires or is revoked.
        New tokens count against the per-IP limit (v1.9: 10 per 7 days).
        """
        now = self.clock()
        held = self.tokens.get(self.client_tokens.get(client_id, ""))
        if held is not None and held.valid(now) and not self.fresh_client_tokens:
            if not self.reissue_client_tokens:
                raise TokenLimitReached(
                    "per_client",
                    "anonymous token limit reached: one token per client id per "
                    f"{self.token_ttl / 86400:g} days",
                    held.expires_at - now,
                )
            return held
        recent = [t for t in self.issued_by_ip.get(ip, []) if now - t < self.token_window]
        if len(recent) >= self.tokens_per_ip:
            wait = self.token_window - (now - min(recent))
            raise TokenLimitReached(
                "per_ip",
                f"anonymous token limit reached: {self.tokens_per_ip} tokens per IP per "
                f"{self.token_window / 86400:g} days",
                wait,
            )
        self.issued_by_ip[ip] = [*recent, now]
        user_id = held.user_id if held is not None else f"anon_{uuid.uuid4().hex[:16]}"
        if user_id not in self.users:
            self.users[user_id] = User(user_id, self.starting_credits)
        elif self.fresh_client_tokens:
            user = self.users[user_id]
            user.available = max(user.available, self.starting_credits)
        token = self._mint(user_id, self.anonymous_scopes, client_id)
        self.client_tokens[client_id] = token.value
        return token

    def issue_token(
        self, *, scopes: tuple[str, ...] = ("*",), user_id: str | None = None,
        credits: int | None = None,
    ) -> Token:  # fmt: skip
        """A registered-style token (for ``NEMO_TOKEN`` flows)."""
        uid = user_id or f"usr_{uuid.uuid4().hex[:16]}"
        if uid not in self.users:
            self.users[uid] = User(uid, self.starting_credits if credits is None else credits)
        return self._mint(uid, scopes, None)

    def _mint(self, user_id: str, scopes: tuple[str, ...], client_id: str | None) -> Token:
        token = Token(
            value=f"nmv_usr_{secrets.token_urlsafe(24)}",
            user_id=user_id,
            scopes=tuple(scopes),
            expires_at=self.clock() + self.token_ttl,
            client_id=client_id,
        )
        self.tokens[token.value] = token
        return token

    def expire(self, token: str) -> None:
        """Make a token expired now (the next call with it gets 1001)."""
        self.tokens[token].expires_at = self.clock() - 1

    def authenticate(self, token: str) -> Token | None:
        found = self.tokens.get(token)
        return found if found is not None and found.valid(self.clock()) else None

    def create_session(self, user_id: str, language: str | None) -> Session:
        session = Session(
            id=f"ses_{uuid.uuid4().hex[:20]}",
            task_id=f"task_{uuid.uuid4().hex[:20]}",
            user_id=user_id,
            language=language,
        )
        self.sessions[session.id] = session
        return session

    def session_of(self, user_id: str, session_id: str) -> Session | None:
        session = self.sessions.get(session_id)
        return session if session is not None and session.user_id == user_id else None
