"""Fault injection: make the emulator misbehave on purpose, a set number of times.

    emu.faults.add("credits", "429", times=2, retry_after="0.01")
    emu.faults.add("*", "500")                      # once, on the next request of any route
    emu.faults.add("state", "slow", delay=2.0)
    emu.faults.add("export", "garbage", times=None) # every time

Routes are named: ``token``, ``session``, ``claim``, ``chat``, ``upload``,
``state``, ``credits``, ``export``, ``poll``, ``cancel``, ``download``
(the API's fallback route) and ``cdn`` (the CDN origin); ``*`` matches any.

Kinds beyond the API's own errors, for hostile-server tests:

* ``drop``: close the connection mid-body. On a JSON route, ``after_apply=True``
  runs the handler first (the server acted, the answer is lost); on ``chat`` the
  stream is cut after the edit is applied (``before_apply=True``: before).
* ``slow``: wait ``delay`` seconds before the handler runs; with ``after_apply=True``,
  after it (the server acted, its answer is late; JSON routes only).
* ``garbage``: a non-JSON body; with ``body=``, that body instead (bytes as they are,
  anything else as JSON: an answer of the right envelope and the wrong shape). With
  ``raw=True``, not HTTP at all: ``body`` (or a short default) goes onto the socket
  where the status line belongs, and the connection closes.
* ``lie``: a ``Content-Length`` that lies by ``delta`` bytes (default ``+64``:
  it promises more than the body; negative: less, and the whole body is still
  written after the short promise). JSON routes and downloads.
* ``redirect``: answer ``status`` (302) with ``Location: <location>``.
* ``endless``: ``chat`` only: keep-alives every ``every`` seconds (0.01) until the
  client leaves (or ``limit`` seconds, 30), nothing else.
* ``slow`` with ``after_accept=True`` on ``chat``: the message is taken, then the
  stream's headers come ``delay`` seconds late; the turn is carried out even if the
  client gave up waiting meanwhile (as the service does once it has the message).
* ``turn_error`` on ``chat`` (ADK shape): the model turn fails inside the 200 stream,
  as google-adk reports it: an event with ``errorCode`` = ``code`` ("RuntimeError")
  and ``errorMessage`` = ``message``; for an exception name (``line``, the default
  unless ``code`` is upper case) then ADK's last line ``{"error": "<code>: <message>",
  "error_details": {...}}``; for a model's verdict (``SAFETY``,
  ``MODEL_RETURNED_NO_CONTENT``) the turn's own event carries it, after ``text`` when
  given. Nothing is applied or charged; the stream then ends cleanly.
* ``silent`` on ``chat``: the tool works ``seconds`` (1.0) more without a single
  keep-alive, as ADK is while a tool runs.
* ``1001`` with ``mid_stream=True`` on ``chat``: the stream starts, the edit is
  applied, then the token expires and the stream carries a ``code 1001`` event
  and ends.
* ``404``: HTTP 404 before the handler runs, in the render endpoints' envelope
  (``{"success": false, "error": <message>}``, message "render not found"); with
  ``detail=``, FastAPI's ``{"detail": <detail>}`` instead (an unknown session is
  ``"Session not found: <sid>"``).
* ``stall``: downloads only: send ``at`` bytes of the file (default: half), then
  nothing for ``delay`` seconds (10.0), then the rest: the body stops mid-file, as a
  slow origin's does, without the connection breaking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

FaultKind = Literal[
    "400", "402", "404", "429", "500", "1001", "1002", "2001", "4001", "4002",
    "drop", "slow", "garbage", "empty", "truncate", "lie", "redirect", "endless",
    "turn_error", "silent", "stall",
]  # fmt: skip
"""What a planned fault does (the list above)."""
FaultRoute = Literal[
    "token", "session", "claim", "chat", "upload", "state", "credits", "export", "poll",
    "cancel", "download", "cdn", "media", "*",
]  # fmt: skip
"""The route a fault waits for (``*``: any)."""

KINDS: frozenset[str] = frozenset(get_args(FaultKind))
ROUTES: frozenset[str] = frozenset(get_args(FaultRoute))
# Kinds that only a route streaming its own body can carry out (chat, downloads).
STREAM_KINDS = frozenset({"drop", "truncate", "lie", "endless", "stall"})
_CODE = frozenset({"status"})
# The parameters each kind reads: any other is a typo that would change nothing.
PARAMS: dict[str, frozenset[str]] = {
    "400": frozenset(),
    "402": frozenset(),
    "404": frozenset({"detail", "message"}),
    "429": frozenset({"retry_after", "limit"}),
    "500": _CODE,
    "1001": _CODE | {"mid_stream"},
    "1002": _CODE,
    "2001": _CODE,
    "4001": _CODE,
    "4002": _CODE,
    "drop": frozenset({"after_apply", "before_apply", "at"}),
    "slow": frozenset({"delay", "after_apply", "after_accept"}),
    "garbage": _CODE | {"body", "raw"},
    "empty": _CODE,
    "truncate": frozenset({"at"}),
    "lie": frozenset({"delta"}),
    "redirect": _CODE | {"location"},
    "endless": frozenset({"every", "limit"}),
    "turn_error": frozenset({"code", "message", "line", "text"}),
    "silent": frozenset({"seconds"}),
    "stall": frozenset({"at", "delay"}),
}
_ALL_PARAMS = frozenset().union(*PARAMS.values())


@dataclass
class Fault:
    """One planned misbehaviour; ``times=None`` means every time."""

    route: str
    kind: str
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0


class FaultInjector:
    """The planned faults of one emulator. Thread-safe (renders run in threads)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self, route: FaultRoute, kind: FaultKind, *, times: int | None = 1, **params: Any
    ) -> Fault:
        """Plan ``kind`` for the next ``times`` requests of ``route``.

        ``ValueError`` for an unknown route, kind or parameter (each names the choices):
        a fault that could never fire, or a misspelt parameter, is refused, not kept silently.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(KINDS)}")
        if route not in ROUTES:
            raise ValueError(f"unknown fault route {route!r}; known: {sorted(ROUTES)}")
        # A parameter some other kind reads passes (a loop over kinds may give them all
        # one set); a name no kind reads is a typo that would change nothing.
        unknown = sorted(set(params) - _ALL_PARAMS)
        if unknown:
            raise ValueError(
                f"no fault takes the parameter {', '.join(map(repr, unknown))}; "
                f"{kind!r} takes: {', '.join(sorted(PARAMS[kind])) or 'none'}"
            )
        fault = Fault(route, kind, times, dict(params))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._faults.clear()

    def take(
        self,
        route: str,
        kinds: frozenset[str] | None = None,
        match: Callable[[Fault], bool] | None = None,
    ) -> Fault | None:
        """The first planned fault for ``route`` among ``kinds`` and ``match``, counted fired."""
        with self._lock:
            for fault in self._faults:
                if fault.route not in (route, "*"):
                    continue
                if kinds is not None and fault.kind not in kinds:
                    continue
                if match is not None and not match(fault):
                    continue
                fault.fired += 1
                if fault.times is not None and fault.fired >= fault.times:
                    self._faults.remove(fault)
                return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        """Faults that have not used up their times."""
        with self._lock:
            return list(self._faults)
