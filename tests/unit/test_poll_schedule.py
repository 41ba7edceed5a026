"""The adaptive render poll schedule, on simulated renders (pure code, no server)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemo_sdk._rules.poll_schedule import PollSchedule


def simulate(
    length: float, *, queued: float = 0.0, cap: float = 95.0, floor: float = 2.0
) -> tuple[float, list[float]]:
    """Poll a render that waits ``queued`` s, then goes 0 -> ``cap`` % linearly over
    ``length`` s and completes; ``(lag after completion, poll times)``."""
    schedule = PollSchedule(floor=floor)
    end = queued + length
    at = schedule.next_at()
    while at < end:
        progress = 0.0 if at < queued else cap * (at - queued) / length
        schedule.polled(at, progress)
        nxt = schedule.next_at()
        assert nxt > at
        at = nxt
    schedule.polls.append(at)
    return at - end, schedule.polls


def _within_limits(polls: list[float], floor: float = 2.0) -> None:
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert all(gap >= floor - 1e-9 for gap in gaps), gaps
    for n, at in enumerate(polls, start=1):  # the n-th poll: no sooner than 5 (n - 2) s
        assert at >= 2.5 * floor * (n - 2) - 1e-9, (n, at, polls)


@pytest.mark.parametrize("length", [2, 5, 8, 10, 13, 30, 45, 60, 90, 180, 300])
def test_a_render_is_noticed_within_two_seconds_of_finishing(length: float) -> None:
    lag, polls = simulate(length)
    assert lag < 2.0, (lag, polls)
    _within_limits(polls)
    assert len(polls) <= length / 5 + 2  # the budget, counted in render time


def test_fewer_polls_than_a_fixed_ten_second_schedule_on_long_renders() -> None:
    _, polls = simulate(300)
    assert len(polls) < 300 / 10


def test_without_progress_it_polls_at_the_budgets_pace() -> None:
    schedule = PollSchedule()
    times = []
    at = schedule.next_at()
    for _ in range(8):
        times.append(at)
        schedule.polled(at, None)
        at = schedule.next_at()
    assert times[:3] == [1.0, 3.0, 5.0]
    assert times[3:] == [10.0, 15.0, 20.0, 25.0, 30.0]


def test_a_queued_render_waits_then_is_aimed_at() -> None:
    lag, polls = simulate(30, queued=20)
    assert lag < 2.0
    _within_limits(polls)


def test_a_smaller_floor_is_honoured() -> None:
    lag, polls = simulate(1.0, floor=0.2)
    assert lag < 0.4
    _within_limits(polls, floor=0.2)


def test_one_reading_predicts_from_the_start_of_the_wait() -> None:
    schedule = PollSchedule()
    schedule.polled(1.0, 50.0)
    assert schedule.predicted_end() == pytest.approx(2.0)
    schedule.polled(3.0, 50.0)  # stalled: the earlier reading with less progress is used
    assert schedule.predicted_end() == pytest.approx(6.0)


@given(
    length=st.floats(min_value=0.5, max_value=600),
    queued=st.floats(min_value=0, max_value=60),
    cap=st.floats(min_value=50, max_value=99.9),
)
def test_the_limits_hold_for_any_render(length: float, queued: float, cap: float) -> None:
    _, polls = simulate(length, queued=queued, cap=cap)
    _within_limits(polls)


@given(length=st.floats(min_value=2, max_value=600))
def test_any_steady_render_is_noticed_within_two_seconds_and_the_budget(length: float) -> None:
    lag, polls = simulate(length)
    assert lag <= 2.0 + 1e-9
    # The budget over the wait (until the SDK knows): one poll per 5 s, plus two. Counted
    # in render time alone it can be one over (a 14.5 s render: 5 polls for 4.9), since
    # the poll that sees the end comes after it.
    assert len(polls) <= (length + lag) / 5 + 2 + 1e-9
