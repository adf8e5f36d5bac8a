"""The paired figures and the bootstrap: weighted figures equal the plain metrics on the
resampled events, recall at equal budget on hand-computed cases, paired resamples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.monitoring.compare_metrics import (
    PairedEvents,
    PairedFigures,
    Ranked,
    bootstrap_differences,
    paired_intervals,
    percentile_interval,
    weighted_figures,
)
from services.core.monitoring.ranking import average_precision, roc_auc

pytestmark = pytest.mark.unit


def _recall_at_budget_by_hand(scores: np.ndarray, fraud: np.ndarray, budget: float) -> float:
    """Flag the top `budget` events; a tied run at the boundary is flagged pro rata."""
    flagged_frauds, left = 0.0, budget
    for score in sorted(set(scores.tolist()), reverse=True):
        run = scores == score
        take = min(1.0, left / run.sum()) if left > 0 else 0.0
        flagged_frauds += take * fraud[run].sum()
        left -= run.sum()
    return flagged_frauds / fraud.sum()


# Scores on a coarse grid so that ties are common.
events = st.integers(2, 40).flatmap(
    lambda count: st.tuples(
        st.lists(st.integers(0, 8), min_size=count, max_size=count),
        st.lists(st.booleans(), min_size=count, max_size=count),
        st.lists(st.integers(0, 3), min_size=count, max_size=count),
        st.integers(0, count),
    )
)


@settings(max_examples=200, deadline=None)
@given(events)
def test_weighted_figures_equal_the_plain_metrics_on_the_repeated_events(
    drawn: tuple[list[int], list[bool], list[int], int],
) -> None:
    grid, labels, counts, budget_share = drawn
    scores = np.array(grid, dtype=np.float64) / 8
    fraud = np.array(labels)
    weights = np.array(counts, dtype=np.float64)
    repeated_scores, repeated_fraud = np.repeat(scores, counts), np.repeat(fraud, counts)
    budget = float(min(budget_share, weights.sum()))
    figures = weighted_figures(Ranked.of(scores, fraud), weights[None, :], np.array([budget]))

    def same(value: float, expected: float | None) -> bool:
        return np.isnan(value) if expected is None else value == pytest.approx(expected, abs=1e-12)

    assert same(figures["roc_auc"][0], roc_auc(repeated_fraud, repeated_scores))
    assert same(figures["pr_auc"][0], average_precision(repeated_fraud, repeated_scores))
    expected = (
        _recall_at_budget_by_hand(repeated_scores, repeated_fraud, budget) if repeated_fraud.any() else None
    )
    assert same(figures["recall_at_budget"][0], expected)


def test_recall_at_equal_budget_by_hand() -> None:
    # The champion flags 2 of 4; the challenger's top 2 are both frauds, the champion's only one.
    events = PairedEvents(
        champion=np.array([0.9, 0.8, 0.7, 0.6]),
        challenger=np.array([0.9, 0.1, 0.8, 0.2]),
        champion_flagged=np.array([True, True, False, False]),
        fraud=np.array([True, False, True, False]),
    )
    assert PairedFigures(events).point()["recall_at_budget"] == (0.5, 1.0)
    # A tie at the boundary: two events at 0.5 share the one slot left, one of them a fraud.
    tied = PairedEvents(
        champion=np.array([0.9, 0.5, 0.5, 0.1]),
        challenger=np.array([0.9, 0.5, 0.5, 0.1]),
        champion_flagged=np.array([True, True, False, False]),
        fraud=np.array([True, True, False, False]),
    )
    assert PairedFigures(tied).point()["recall_at_budget"] == (0.75, 0.75)
    nothing_flagged = PairedEvents(tied.champion, tied.challenger, np.zeros(4, dtype=bool), tied.fraud)
    assert PairedFigures(nothing_flagged).point()["recall_at_budget"] == (0.0, 0.0)


def test_undefined_figures_are_none() -> None:
    legit_only = PairedEvents(
        np.array([0.2, 0.4]), np.array([0.3, 0.1]), np.array([False, True]), np.zeros(2, bool)
    )
    point = PairedFigures(legit_only).point()
    assert point == {"roc_auc": (None, None), "pr_auc": (None, None), "recall_at_budget": (None, None)}
    fraud_only = PairedEvents(
        legit_only.champion, legit_only.challenger, legit_only.champion_flagged, np.ones(2, bool)
    )
    assert PairedFigures(fraud_only).point()["roc_auc"] == (None, None)
    assert PairedFigures(fraud_only).point()["pr_auc"] == (1.0, 1.0)


def _synthetic(seed: int, count: int, challenger_noise: float) -> PairedEvents:
    rng = np.random.default_rng(seed)
    fraud = rng.random(count) < 0.1
    champion = rng.normal(0, 1, count) + 1.5 * fraud
    challenger = np.where(fraud, champion + 0.8, champion) + rng.normal(0, challenger_noise, count)
    return PairedEvents(champion, challenger, champion >= np.quantile(champion, 0.9), fraud)


def test_a_monotone_copy_differs_by_exactly_zero_in_every_resample() -> None:
    # Same ranking, other scores: only a paired resample (same draws for both) gives 0 everywhere.
    events = _synthetic(1, 2000, 0.1)
    copy = PairedEvents(events.champion, 3 * events.champion + 1, events.champion_flagged, events.fraud)
    differences = bootstrap_differences(PairedFigures(copy), 300, np.random.default_rng(7))
    for name, values in differences.items():
        assert values.shape == (300,), name
        assert np.all(values[np.isfinite(values)] == 0), name
    assert paired_intervals(copy, 300, 0.95, np.random.default_rng(7), 10_000)["roc_auc"] == (0.0, 0.0)


def test_the_bootstrap_is_seeded_and_its_interval_holds_the_estimate() -> None:
    events = _synthetic(2, 3000, 0.5)
    first = paired_intervals(events, 400, 0.95, np.random.default_rng(11), 10_000)
    again = paired_intervals(events, 400, 0.95, np.random.default_rng(11), 10_000)
    assert first == again
    point = PairedFigures(events).point()
    for name, interval in first.items():
        assert interval is not None
        champion, challenger = point[name]
        assert champion is not None and challenger is not None
        assert interval[0] < challenger - champion < interval[1], name
    # The challenger catches the frauds better by construction: the recall gain is clearly positive.
    recall = first["recall_at_budget"]
    assert recall is not None and recall[0] > 0


def test_more_events_give_narrower_intervals() -> None:
    widths = []
    for count in (1000, 16_000):
        interval = paired_intervals(_synthetic(3, count, 0.5), 300, 0.95, np.random.default_rng(5), 100_000)
        assert interval["roc_auc"] is not None
        widths.append(interval["roc_auc"][1] - interval["roc_auc"][0])
    # sqrt(16) = 4 times narrower in theory; at least twice here.
    assert widths[1] < widths[0] / 2


def test_above_the_event_cap_the_interval_is_rescaled_around_the_full_difference() -> None:
    events = _synthetic(4, 12_000, 0.5)
    full = paired_intervals(events, 300, 0.95, np.random.default_rng(9), 100_000)
    capped = paired_intervals(events, 300, 0.95, np.random.default_rng(9), 3000)
    point = PairedFigures(events).point()
    for name in full:
        exact, scaled = full[name], capped[name]
        assert exact is not None and scaled is not None
        champion, challenger = point[name]
        assert champion is not None and challenger is not None
        assert scaled[0] < challenger - champion < scaled[1], name
        exact_width, scaled_width = exact[1] - exact[0], scaled[1] - scaled[0]
        assert exact_width / 2 < scaled_width < exact_width * 2, name


def test_percentile_interval() -> None:
    assert percentile_interval(np.arange(101, dtype=np.float64), 0.95) == pytest.approx((2.5, 97.5))
    mostly_undefined = np.array([0.1, np.nan, np.nan])
    assert percentile_interval(mostly_undefined, 0.95) is None
    assert percentile_interval(np.array([]), 0.95) is None
    assert percentile_interval(np.array([0.2, 0.2, np.nan]), 0.9) == (0.2, 0.2)
