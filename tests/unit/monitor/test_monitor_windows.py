"""Tumbling event-time windows: alignment, closing past end + lateness, late events, the clock."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from random import Random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import DRIFT_REPORT, Event
from events.drift import DriftReport
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor, Observed
from services.core.monitoring.window import add_exact, window_start
from tests.unit.monitor.streams import (
    T0,
    closing_prediction,
    draw_rows,
    explanation_of,
    model_reference,
    prediction_of,
)

pytestmark = pytest.mark.unit
ROWS = draw_rows(np.random.default_rng(7), 200)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _monitor(clock: Clock | None = None, **config: Any) -> Monitor:
    settings = MonitorConfig(**({"window_sizes_s": (300,), "allowed_lateness_s": 60.0} | config))
    return Monitor(model_reference(), settings, source="//tests/monitor", clock=clock or Clock(T0))


def _prediction(second: float, row: int = 0, payment_id: str | None = None, **changes: Any) -> Event[Any]:
    return prediction_of(
        ROWS, row, payment_id or f"p-{second}-{row}", T0 + timedelta(seconds=second), **changes
    )


def _reports(monitor: Monitor) -> list[DriftReport]:
    return [event.data for event in monitor.outbox if event.type == DRIFT_REPORT]


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_start(0.0, 300) == 0
    assert window_start(299.999, 300) == 0
    assert window_start(300.0, 300) == 300
    assert window_start(T0.timestamp() + 3599, 3600) == T0.timestamp()


def test_a_window_closes_only_when_event_time_passes_end_plus_lateness() -> None:
    monitor = _monitor()
    for second in (10, 100, 299):
        assert monitor.observe(_prediction(second)) is Observed.COUNTED
    monitor.observe(_prediction(359))  # next window; 359 < 300 + 60: still open
    monitor.observe(_prediction(360))  # not past end + lateness yet (strictly greater needed)
    assert _reports(monitor) == []
    assert monitor.observe(_prediction(290, row=1)) is Observed.COUNTED  # late but within lateness
    monitor.observe(_prediction(360.5))
    [report] = _reports(monitor)
    assert report.window.start == T0 and report.window.end == T0 + timedelta(seconds=300)
    assert report.window.size_s == 300
    assert report.counts.predictions == 4
    assert report.counts.late == 0


def test_events_for_a_closed_window_are_counted_late_in_the_next_report() -> None:
    monitor = _monitor()
    monitor.observe(_prediction(10))
    monitor.observe(_prediction(400))  # closes [0, 300)
    prediction = _prediction(20, row=2)
    assert monitor.observe(prediction) is Observed.LATE
    explanation = explanation_of(prediction, np.ones(4), T0 + timedelta(seconds=21))
    assert monitor.observe(explanation) is Observed.LATE
    monitor.observe(_prediction(700))  # closes [300, 600)
    first, second = _reports(monitor)
    assert (first.counts.predictions, first.counts.late) == (1, 0)
    assert (second.counts.predictions, second.counts.late) == (1, 2)


def test_each_size_has_its_own_windows() -> None:
    monitor = _monitor(window_sizes_s=(300, 900))
    for second in range(0, 1000, 50):
        monitor.observe(_prediction(second))
    monitor.observe(_prediction(2000))
    reports = _reports(monitor)
    by_size = {size: [r for r in reports if r.window.size_s == size] for size in (300, 900)}
    assert [r.counts.predictions for r in by_size[300]] == [6, 6, 6, 2]
    assert [r.counts.predictions for r in by_size[900]] == [18, 2]
    ends = [(r.window.end, r.window.size_s) for r in reports]
    assert ends == sorted(ends)  # closed in order of end, then size


def test_duplicates_and_other_models_are_counted_not_used() -> None:
    monitor = _monitor()
    prediction = _prediction(10, payment_id="pay-1")
    assert monitor.observe(prediction) is Observed.COUNTED
    assert monitor.observe(prediction) is Observed.DUPLICATE
    explanation = explanation_of(prediction, np.ones(4), T0 + timedelta(seconds=11))
    assert monitor.observe(explanation) is Observed.COUNTED
    assert monitor.observe(explanation) is Observed.DUPLICATE
    assert monitor.observe(_prediction(12, model_version="8")) is Observed.OTHER_MODEL
    monitor.observe(closing_prediction(1000))
    [report, *_] = _reports(monitor)
    assert report.counts.predictions == 1
    assert report.counts.explanations == 1
    assert report.counts.duplicates == 2
    assert report.counts.other_model == 1


def test_the_clock_closes_windows_of_an_idle_stream() -> None:
    clock = Clock(datetime(2030, 1, 1, tzinfo=T0.tzinfo))
    monitor = _monitor(clock, idle_close_s=120.0)
    monitor.observe(_prediction(100))
    assert monitor.tick() == 0
    clock.now += timedelta(seconds=119)
    assert monitor.tick() == 0  # not idle long enough
    clock.now += timedelta(seconds=1)
    assert monitor.tick() == 0  # idle: event time is now 220, the window needs > 360
    clock.now += timedelta(seconds=150)
    assert monitor.tick() == 1  # 220 + 150 = 370 > 300 + 60
    [report] = _reports(monitor)
    assert report.counts.predictions == 1
    assert monitor.observe(_prediction(200)) is Observed.LATE


def test_without_idle_close_the_clock_does_nothing() -> None:
    clock = Clock(T0)
    monitor = _monitor(clock)
    monitor.observe(_prediction(100))
    clock.now += timedelta(days=30)
    assert monitor.tick() == 0
    assert monitor.outbox == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_subnormal=True), max_size=60), st.randoms())
def test_window_sums_do_not_depend_on_arrival_order(values: list[float], shuffler: Random) -> None:
    forward: list[float] = []
    for value in values:
        add_exact(forward, value)
    shuffled = values.copy()
    shuffler.shuffle(shuffled)
    mixed: list[float] = []
    for value in shuffled:
        add_exact(mixed, value)
    assert math.fsum(forward) == math.fsum(mixed) == math.fsum(values)
