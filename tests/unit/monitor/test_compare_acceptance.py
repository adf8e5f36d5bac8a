"""Issue 15's acceptance: on a synthetic stream where the challenger is truly better (it scores a
fraud pattern the champion misses) the comparison says promote; where it is the same model (same
scores, or the same plus a little noise) it says keep or not enough evidence, never promote.
Through the whole stream path: predictions, shadow predictions and labels into `Comparison`."""

from __future__ import annotations

from typing import Any

import pytest

from events import COMPARISON_REPORT, ModelComparison, Verdict
from services.core.monitoring.compare_stream import Comparison
from services.core.monitoring.config import ComparisonConfig
from tests.unit.monitor.compare_streams import (
    CHALLENGER,
    CHAMPION,
    SIZE_S,
    T0,
    Kind,
    closing_prediction,
    draw_inputs,
    events_of,
)

pytestmark = pytest.mark.unit

SEEDS = range(6)
CONFIG = ComparisonConfig(
    champion=CHAMPION, challengers=(CHALLENGER,), window_sizes_s=(SIZE_S,), allowed_lateness_s=60
)


def _compare(events: list[Any]) -> ModelComparison:
    comparison = Comparison(CONFIG, source="//tests/monitor", clock=lambda: T0)
    for event in [*events, closing_prediction(SIZE_S + 120)]:
        comparison.observe(event)
    reports = [event.data for event in comparison.outbox if event.type == COMPARISON_REPORT]
    assert len(reports) == 1
    return reports[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_truly_better_challenger_is_promoted(seed: int) -> None:
    report = _compare(events_of(draw_inputs(seed, 4000, Kind.BETTER), seed=seed))
    assert report.counts.positives >= 30
    assert report.verdict.verdict is Verdict.PROMOTE, report.verdict.reasons
    recall = report.recall_at_budget
    assert recall.difference is not None and recall.ci_low is not None and recall.ci_low > 0


@pytest.mark.parametrize("kind", [Kind.SAME, Kind.NOISY_COPY])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_model_is_never_promoted(seed: int, kind: Kind) -> None:
    report = _compare(events_of(draw_inputs(seed, 4000, kind), seed=seed))
    assert report.counts.positives >= 30
    assert report.verdict.verdict in (Verdict.KEEP, Verdict.NOT_ENOUGH_EVIDENCE), report.verdict.reasons
    assert report.verdict.verdict is not Verdict.PROMOTE


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_too_few_labelled_frauds_is_not_enough_evidence(seed: int, kind: Kind) -> None:
    report = _compare(events_of(draw_inputs(seed, 400, kind), seed=seed))
    assert report.counts.positives < 30
    assert report.verdict.verdict is Verdict.NOT_ENOUGH_EVIDENCE
    assert report.verdict.reasons[0].startswith(f"fail: {report.counts.positives} labelled frauds")
