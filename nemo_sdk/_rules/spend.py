"""What one workflow run spent: the balance's drop, only when no other run overlapped it.

The balance is the account's: two runs at once on one client each see both runs' costs
in their drop. A run that overlapped another on the same client therefore reports
``None`` (unknown) rather than a wrong number.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SpendWatch", "watch_spend"]


class SpendWatch:
    """One run's view: ``alone`` stays true while no other run overlapped it."""

    def __init__(self) -> None:
        self.alone = True

    def spent(self, before: int | None, after: int | None) -> int | None:
        """The balance's drop, or ``None`` when it cannot be this run's alone."""
        if not self.alone or before is None or after is None:
            return None
        return before - after


_RUNNING: weakref.WeakKeyDictionary[object, set[SpendWatch]] = weakref.WeakKeyDictionary()


@contextmanager
def watch_spend(client: object) -> Iterator[SpendWatch]:
    """Track a run on ``client``; every run that overlaps another is marked not alone."""
    running = _RUNNING.setdefault(client, set())
    watch = SpendWatch()
    if running:
        watch.alone = False
        for other in running:
            other.alone = False
    running.add(watch)
    try:
        yield watch
    finally:
        running.discard(watch)
