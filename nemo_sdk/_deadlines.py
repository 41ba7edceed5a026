"""The total and read-idle timeouts of API calls, enforced by one timer for all of them.

aiohttp's ``sock_read`` re-arms a timer on every chunk of every response (a
timer-heap push and a cancel each time) on top of the timer of ``total``; for
small JSON answers at thousands a second that was about a tenth of the
client's CPU. Here a call costs a set insertion and removal, and a single
periodic check, armed only while calls are in flight, cancels the calls
whose limit has passed. The check runs twenty times per shorter limit, and
progress is dated when the check sees it, so a call times out never early and
at most about a tenth of the shorter limit late (12 s on the default 120 s).

Streamed bodies (chat, downloads) outlive the call that opened them and keep
aiohttp's ``sock_read``; this covers calls whose body is read in full inside
the transport.
"""

from __future__ import annotations

import asyncio
import math
import sys
from typing import Protocol


class _Body(Protocol):
    total_bytes: int


class Watch:
    """One call in flight: when it started, and the last progress the check saw."""

    __slots__ = ("body", "cancelling", "fired", "last_progress", "seen", "started", "task")

    def __init__(self, task: asyncio.Task[object], now: float) -> None:
        self.task = task
        self.started = now
        self.last_progress = now
        self.seen = -1  # bytes of body read so far; -1 while waiting for the headers
        self.body: _Body | None = None  # the response's stream, once the headers are in
        self.fired = False
        self.cancelling = 0  # cancellations already requested before the call began
        if sys.version_info >= (3, 11):
            self.cancelling = task.cancelling()

    def timed_out(self) -> bool:
        """True if the check cancelled the call; that cancellation is then withdrawn.

        False when it did not, and when someone else cancelled the task as well:
        their cancellation must win. Answers True once; later calls say False.
        """
        if not self.fired:
            return False
        self.fired = False
        if sys.version_info >= (3, 11):
            return self.task.uncancel() <= self.cancelling
        return True


class Deadlines:
    """Total and read-idle limits (seconds, ``None`` for none) of a transport's calls."""

    def __init__(self, read: float | None, total: float | None) -> None:
        limits = [limit for limit in (read, total) if limit]
        self.enabled = bool(limits)
        self._read = read or math.inf
        self._total = total or math.inf
        self._every = min(limits) / 20 if limits else math.inf
        self._watches: set[Watch] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> Watch:
        """Watch the current task's call until ``finish``."""
        task = asyncio.current_task()
        assert task is not None, "API calls run inside a task"
        loop = task.get_loop()
        watch = Watch(task, loop.time())
        self._watches.add(watch)
        if self._handle is None or self._loop is not loop:
            self._loop = loop
            self._handle = loop.call_later(self._every, self._check)
        return watch

    def finish(self, watch: Watch) -> None:
        """Stop watching; withdraw a cancellation the call swallowed or turned into an error."""
        self._watches.discard(watch)
        watch.timed_out()

    def _check(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        for watch in list(self._watches):
            seen = -1 if watch.body is None else watch.body.total_bytes
            if seen != watch.seen:
                watch.seen, watch.last_progress = seen, now
            if now - watch.last_progress >= self._read or now - watch.started >= self._total:
                self._watches.discard(watch)
                watch.fired = True
                watch.task.cancel()
        self._handle = loop.call_later(self._every, self._check) if self._watches else None
