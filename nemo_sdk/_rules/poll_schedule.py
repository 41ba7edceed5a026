"""When ``renders.wait`` polls next: soon at first, then when the render's progress says it ends.

A render reports ``progress`` (0-100) as it goes. From two readings (or one, taking the
wait's start as the render's), the rate predicts the moment it reaches 100. The schedule
closes in on that moment by halves, then polls every ``floor`` seconds from a little
before it, so the poll that sees ``completed`` comes soon after the render finishes. A
poll before the predicted end is made only when the budget leaves room for the next one.

Two limits hold whatever the estimate says:

* never two polls closer than ``floor`` seconds (2 s by default);
* at most one poll per ``per_poll`` seconds of waiting, plus ``extra`` (one per 5 s,
  plus two): the *n*-th poll comes no earlier than ``per_poll * (n - extra)`` seconds.
  ``per_poll`` is 2.5 floors: a smaller floor (a test's) scales the whole schedule.

Pure code: the caller keeps the clock and does the sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PollSchedule"]


@dataclass
class PollSchedule:
    """The adaptive schedule of one wait; times are seconds since the wait started.

    Call :meth:`polled` after each poll with what it said; :meth:`next_at` is when to
    poll next (the first poll is at :attr:`first`).
    """

    floor: float = 2.0
    extra: int = 2
    # The last stretch before the predicted end, polled every ``floor``: a share of the
    # predicted duration (progress is rarely linear to the end).
    closing_share: float = 0.1
    polls: list[float] = field(default_factory=list)
    readings: list[tuple[float, float]] = field(default_factory=list)

    @property
    def per_poll(self) -> float:
        """The budget: one poll per this many seconds (5 s for the 2 s floor)."""
        return 2.5 * self.floor

    @property
    def first(self) -> float:
        """When the first poll comes: soon, yet late enough for progress to say something."""
        return self.floor / 2

    def polled(self, at: float, progress: float | None) -> None:
        """Record a poll made ``at`` seconds in; ``progress`` as it reported (or ``None``)."""
        self.polls.append(at)
        if progress is not None and 0 <= progress < 100:
            self.readings.append((at, float(progress)))

    def predicted_end(self) -> float | None:
        """When progress will reach 100, from the readings so far (``None``: no idea yet)."""
        if not self.readings:
            return None
        t2, p2 = self.readings[-1]
        if p2 <= 0:
            return None
        earlier = [(t, p) for t, p in self.readings[:-1] if p < p2 and t < t2]
        if earlier:
            t1, p1 = earlier[-1]
        else:
            t1, p1 = 0.0, 0.0  # one reading: the render started when the wait did
        if t2 <= t1 or p2 <= p1:
            return None
        return t2 + (100.0 - p2) * (t2 - t1) / (p2 - p1)

    def earliest(self) -> float:
        """The soonest the next poll may come under the floor and the budget."""
        if not self.polls:
            return self.first
        n = len(self.polls) + 1
        return max(self.polls[-1] + self.floor, self.per_poll * (n - self.extra))

    def next_at(self) -> float:
        """When to poll next, in seconds since the wait started."""
        earliest = self.earliest()
        end = self.predicted_end()
        if not self.polls or end is None:
            return earliest
        last, n = self.polls[-1], len(self.polls)
        closing = end - max(self.floor, self.closing_share * end)
        if last >= closing:  # the last stretch: every floor (the budget permitting)
            return earliest

        def affordable(at: float) -> bool:
            # A poll before the end only if the budget still allows one more by the
            # predicted end: the poll that sees the render done must not be held back.
            return self.per_poll * (n + 2 - self.extra) <= at + self.floor

        gap = closing - last
        # Halve the distance while it is long (the estimate sharpens), then the closing.
        step = max(earliest, closing if gap <= 2 * self.floor else last + gap / 2)
        if affordable(step):
            return step
        if affordable(max(earliest, closing)):
            return max(earliest, closing)
        return max(earliest, end)
