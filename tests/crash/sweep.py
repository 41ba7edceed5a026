"""Cancel a coroutine exactly at one of its await points (no wall-clock guesses).

:class:`Suspensions` drives the wrapped coroutine by hand (``send``/``throw``), so
it sees every time the coroutine suspends, and where: the chain of frames from
the innermost ``await`` up to the workflow (``file:line`` each). That chain is
the *await point*. A first run lists the points in the order they are first
passed; a later run with ``cancel_at=point`` cancels its own task right as the
coroutine first suspends there: the task cancels the future the coroutine waits
on, and ``CancelledError`` is raised at that very await point. Points are matched
by where they are, not by how many suspensions came before, so a run that polls
a render three times instead of five still reaches the same points.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Point = tuple[str, ...]


_SUSPENDABLE = (
    inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE | inspect.CO_GENERATOR
    | inspect.CO_ASYNC_GENERATOR
)  # fmt: skip


def _where(code: Any, line: int) -> str:
    return "/".join(code.co_filename.rsplit("/", 2)[-2:]) + f":{line}"


def _send(coro: Any, value: Any, error: BaseException | None) -> tuple[Any, Point]:
    """Resume ``coro`` once; what it yielded, and the await point it stopped at.

    The frames that suspend are seen by a profile hook (a yield is a ``return``
    event of a coroutine or generator frame): the last unbroken run of them,
    each the caller of the one before, from the innermost to ``coro``. This sees
    through async generators, which ``cr_await`` does not.
    """
    events: list[tuple[Any, Any, str]] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code.co_flags & _SUSPENDABLE:
            events.append((frame, frame.f_back, _where(frame.f_code, frame.f_lineno)))

    sys.setprofile(hook)
    try:
        yielded = coro.throw(error) if error is not None else coro.send(value)
    finally:
        sys.setprofile(None)
    chain = [events[-1]] if events else []
    for event in reversed(events[:-1]):
        if event[0] is None or event[1] is not chain[-1][0]:
            break
        chain.append(event)
    return yielded, tuple(where for _, _, where in chain)


class Suspensions(Generic[T]):
    """Await this instead of ``coro``; ``points`` lists the await points it passed."""

    def __init__(self, coro: Coroutine[Any, Any, T], cancel_at: Point | None = None) -> None:
        self.coro = coro
        self.cancel_at = cancel_at
        self.count = 0
        self.points: list[Point] = []
        self._seen: set[Point] = set()
        self.cancelled = False  # the planned cancel was made

    def __await__(self) -> Generator[Any, Any, T]:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                yielded, point = _send(self.coro, value, error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            self.count += 1
            if point not in self._seen:
                self._seen.add(point)
                self.points.append(point)
            if point == self.cancel_at and not self.cancelled:
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
                self.cancelled = True
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # CancelledError included: hand it to the coroutine
                value, error = None, exc
