"""The fault matrix: every operation x every fault kind, and the outcome API.md documents.

Pure data, shared by ``test_matrix.py`` (which runs each case against the
emulator), ``test_reliability_doc.py`` (which checks ``docs/reliability.md``
lists every case) and ``scripts/reliability_report.py`` (which writes that file
from a run). Combinations that cannot occur (a truncated download of the
credits balance, a 1002 from the CDN...) are not in :data:`CASES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nemo_sdk import (
    APIConnectionError,
    APITimeoutError,
    ExportBlocked,
    InsufficientCreditsError,
    InvalidResponseError,
    NemoError,
    RateLimitError,
    RenderTimeout,
    ServerError,
    SessionNotFoundError,
)

OPS: tuple[str, ...] = (
    "token", "session", "chat", "upload", "state", "credits", "export", "poll", "download",
)  # fmt: skip
"""Operations, in table order."""

OP_LABELS: dict[str, str] = {
    "token": "anonymous token",
    "session": "sessions.create",
    "chat": "chat.send",
    "upload": "uploads.upload",
    "state": "state.get",
    "credits": "credits.balance",
    "export": "renders.export",
    "poll": "renders.wait (poll)",
    "download": "renders.download",
}

ROUTE: dict[str, str] = {
    "token": "token",
    "session": "session",
    "chat": "chat",
    "upload": "upload",
    "state": "state",
    "credits": "credits",
    "export": "export",
    "poll": "poll",
    "download": "cdn",  # the output URL on the CDN origin; the fallback route is "download"
}
"""The emulator route each operation's fault is planned on."""

KINDS: tuple[str, ...] = (
    "429-once", "429-twice", "1001-once", "1001-mid-stream", "1002", "2001", "402",
    "500-once", "500-always", "drop", "slow", "garbage", "truncate",
)  # fmt: skip
"""Fault kinds, in table order."""

KIND_LABELS: dict[str, str] = {
    "429-once": "HTTP 429 once",
    "429-twice": "HTTP 429 twice",
    "1001-once": "1001 once",
    "1001-mid-stream": "1001 mid-stream",
    "1002": "1002",
    "2001": "2001",
    "402": "HTTP 402",
    "500-once": "HTTP 500 once",
    "500-always": "HTTP 500 always",
    "drop": "connection dropped mid-body",
    "slow": "slow answer past the timeout",
    "garbage": "garbage body",
    "truncate": "truncated download",
}

SLOW = {"delay": 0.3, "after_apply": True}  # past the cases' 0.08 s read timeout

FAULTS: dict[str, tuple[str, int | None, dict[str, Any]]] = {
    "429-once": ("429", 1, {"retry_after": "1"}),
    "429-twice": ("429", 2, {"retry_after": "1", "limit": "per_client"}),
    "1001-once": ("1001", 1, {}),
    "1001-mid-stream": ("1001", 1, {"mid_stream": True}),
    "1002": ("1002", 1, {}),
    "2001": ("2001", 1, {}),
    "402": ("402", 1, {}),
    "500-once": ("500", 1, {}),
    "500-always": ("500", None, {}),
    # The server acted, then the answer was cut (JSON routes); the chat stream is cut
    # after the edit is applied; a download is cut a quarter in.
    "drop": ("drop", 1, {"after_apply": True}),
    # The server acted, then answered late (JSON routes; before acting on chat).
    "slow": ("slow", 1, SLOW),
    "garbage": ("garbage", 1, {}),
    "truncate": ("truncate", 1, {}),
}
"""``(emulator fault kind, times, params)`` of each matrix kind."""

Count = int | tuple[int, int | None]
"""An exact request count, or ``(at least, at most)`` (``None``: no upper bound)."""


@dataclass(frozen=True)
class Expect:
    """The documented outcome of one case.

    ``error`` is the typed error (``None``: the operation recovers), ``requests`` what
    the faulted route saw, ``also`` what other routes saw during the operation
    (``token`` counts new token calls), ``fields`` attributes of the error, ``applied``
    the chat edits the emulator applied, ``xfail`` the reason when the SDK does not
    yet do what API.md says, ``note`` a short explanation for the report.
    """

    error: type[NemoError] | None
    requests: Count
    also: dict[str, Count] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    applied: int | None = None
    xfail: str | None = None
    note: str = ""

    @property
    def outcome(self) -> str:
        return "recovered" if self.error is None else self.error.__name__


def ok(requests: Count, note: str = "", **also: Count) -> Expect:
    return Expect(None, requests, also=also, note=note)


def err(error: type[NemoError], requests: Count, note: str = "", **fields: Any) -> Expect:
    return Expect(error, requests, fields=fields, note=note)


RATE_LIMITED = {"status": 429, "retry_after": 1.0}
NOT_FOUND = {"status": 200, "code": 1002}
BLOCKED = {"status": 402}
CREDITS = {"code": 2001, "register_url": "<web>/register?bind=<anon user id>"}
NOT_RESENT = "a creating POST is not re-sent after a 5xx or a lost answer"


def _api_route(
    op: str,
    *,
    creating: bool,
    session_scoped: bool,
    charges: bool = False,
) -> dict[str, Expect]:
    """The cases of a JSON route; ``creating``: POSTs that are not re-sent after 5xx/drops."""
    cases = {
        "429-once": ok(2, "waited Retry-After, retried once"),
        "429-twice": err(RateLimitError, 2, "one retry only", **RATE_LIMITED),
        "1001-once": ok(2, "new anonymous token (same client id), retried once", token=1),
        "402": err(ExportBlocked, 1, "never retried", **BLOCKED),
        "garbage": err(InvalidResponseError, 1, "non-JSON 200 answer", status=200),
    }
    if session_scoped:
        cases["1002"] = err(SessionNotFoundError, 1, "no new session unless opted in", **NOT_FOUND)
    if charges:
        cases["2001"] = err(InsufficientCreditsError, 1, "with the bind link", **CREDITS)
    if creating:
        cases["500-once"] = err(ServerError, 1, NOT_RESENT, status=500)
        cases["500-always"] = err(ServerError, 1, NOT_RESENT, status=500)
        cases["drop"] = err(APIConnectionError, 1, NOT_RESENT)
        cases["slow"] = err(APITimeoutError, 1, NOT_RESENT)
    else:
        cases["500-once"] = ok(2, "GET retried with back-off")
        cases["500-always"] = err(ServerError, 3, "1 + max_retries (2)", status=500)
        cases["drop"] = ok(2, "GET retried")
        cases["slow"] = ok(2, "GET retried after the timeout")
    return cases


def _token() -> dict[str, Expect]:
    # No token is sent on this call, so 1001/1002/2001/402 cannot answer it.
    return {
        "429-once": ok(2, "waited Retry-After, retried once"),
        "429-twice": err(RateLimitError, 2, "says which limit", limit="per_client", **RATE_LIMITED),
        "500-once": err(ServerError, 1, "the token call is a POST: not re-sent", status=500),
        "500-always": err(ServerError, 1, "the token call is a POST: not re-sent", status=500),
        "drop": err(APIConnectionError, 1, "not re-sent"),
        "slow": err(APITimeoutError, 1, "not re-sent"),
        "garbage": err(InvalidResponseError, 1, "non-JSON 200 answer", status=200),
    }


def _chat() -> dict[str, Expect]:
    applied = {
        "429-once": 1, "429-twice": 0, "1001-once": 1, "1001-mid-stream": 1, "1002": 0,
        "2001": 0, "402": 0, "500-once": 0, "500-always": 0, "drop": 1, "garbage": 0,
        "slow": 1,
    }  # fmt: skip
    cases = _api_route("chat", creating=True, session_scoped=True, charges=True)
    cases["1001-mid-stream"] = ok(
        1, "edit kept, message not re-sent; the state read renews the token", token=1
    )
    cases["drop"] = ok(1, "not re-sent: the state confirms the edit (interrupted reply)")
    # The chat stream's idle limit is ``heartbeat_timeout`` (an ADK server is silent while
    # a tool runs), not the 0.08 s read timeout: a late answer is waited for.
    cases["slow"] = ok(1, "a late answer is waited for, up to heartbeat_timeout: not re-sent")
    out = {}
    for kind, expect in cases.items():
        out[kind] = Expect(
            expect.error, expect.requests, expect.also, expect.fields,
            applied.get(kind), expect.xfail, expect.note,
        )  # fmt: skip
    return out


def _export() -> dict[str, Expect]:
    cases = _api_route("export", creating=False, session_scoped=True, charges=True)
    cases["500-once"] = ok(2, "the first id is looked up (404), then one new id", poll=1)
    cases["500-always"] = err(
        ServerError, 2, "each id looked up before the one retry with a new id", status=500
    )
    cases["drop"] = ok(1, "the render is found under its id: not submitted twice", poll=1)
    cases["slow"] = ok(1, "the render is found under its id: not submitted twice", poll=1)
    cases["garbage"] = ok(2, "the first id is looked up (404), then one new id", poll=1)
    return cases


def _poll() -> dict[str, Expect]:
    cases = _api_route("poll", creating=False, session_scoped=False)
    cases["500-always"] = err(RenderTimeout, (3, None), "polled through until the deadline")
    cases["garbage"] = ok(2, "a garbled poll is polled through")
    return cases


def _download() -> dict[str, Expect]:
    # The CDN answers no API codes; the fallback route (bearer) is the second source.
    return {
        "429-once": ok(2, "waited, retried once"),
        "429-twice": ok(2, "fell back to the authenticated route", download=1),
        "500-once": ok(2, "retried"),
        "500-always": ok((3, 9), "fell back to the authenticated route", download=1),
        "drop": ok(2, "resumed with Range"),
        "slow": ok(2, "retried after the timeout"),
        "garbage": ok(1, "an HTML page is refused; the authenticated route delivered", download=1),
        "truncate": ok(2, "resumed with Range"),
    }


CASES: dict[tuple[str, str], Expect] = {
    (op, kind): expect
    for op, cases in {
        "token": _token(),
        "session": _api_route("session", creating=True, session_scoped=False),
        "chat": _chat(),
        "upload": _api_route("upload", creating=True, session_scoped=True),
        "state": _api_route("state", creating=False, session_scoped=True),
        "credits": _api_route("credits", creating=False, session_scoped=False),
        "export": _export(),
        "poll": _poll(),
        "download": _download(),
    }.items()
    for kind, expect in cases.items()
}


def case_id(op: str, kind: str) -> str:
    return f"{op}-{kind}"


def count_text(count: Count) -> str:
    if isinstance(count, int):
        return str(count)
    low, high = count
    return f"{low}+" if high is None else f"{low}-{high}"


def requests_text(op: str, expect: Expect) -> str:
    """``cdn 2, download 1`` style: the faulted route first, then the others."""
    parts = [f"{ROUTE[op]} {count_text(expect.requests)}"]
    parts += [
        f"{route} +{count_text(n)}" if route == "token" else f"{route} {count_text(n)}"
        for route, n in expect.also.items()
    ]
    return ", ".join(parts)


def ordered_ids() -> list[str]:
    return [case_id(op, kind) for op in OPS for kind in KINDS if (op, kind) in CASES]
