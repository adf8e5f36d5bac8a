"""The comparison join: arrival order, redelivery, canary role swap, late scores, labels before
their scores, bounds, restarts, ids."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import orjson
import pytest

from events import (
    COMPARISON_REPORT,
    PROMOTION_VERDICT,
    SHADOW_PREDICTION,
    Event,
    ModelComparison,
    ShadowRole,
    comparison_report_id,
    promotion_verdict_id,
)
from services.core.monitoring.compare_stream import CompareObserved, Comparison, ComparisonStateMismatch
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
    label_at,
    prediction_at,
    shadow_of,
)

pytestmark = pytest.mark.unit

CONFIG = ComparisonConfig(
    champion=CHAMPION,
    challengers=(CHALLENGER,),
    window_sizes_s=(SIZE_S,),
    allowed_lateness_s=60,
    resamples=200,
)
CLOSE = closing_prediction(SIZE_S + 120)


def _run(events: list[Event[Any]], config: ComparisonConfig = CONFIG) -> Comparison:
    comparison = Comparison(config, source="//tests/monitor", clock=lambda: T0)
    for event in events:
        comparison.observe(event)
    return comparison


def _reports(comparison: Comparison) -> list[ModelComparison]:
    return [event.data for event in comparison.outbox if event.type == COMPARISON_REPORT]


def _stream(seed: int = 1, count: int = 1500, **options: Any) -> list[Event[Any]]:
    return events_of(draw_inputs(seed, count, Kind.BETTER), seed=seed, **options)


def test_arrival_order_does_not_change_the_report() -> None:
    events = _stream()
    ordered = _reports(_run([*events, CLOSE]))
    shuffled = list(events)
    np.random.default_rng(3).shuffle(shuffled)  # labels and shadows before their predictions, too
    assert _reports(_run([*shuffled, CLOSE])) == ordered
    assert ordered[0].counts.paired == 1500 and ordered[0].counts.labeled == 1500


def test_redelivered_events_are_counted_once() -> None:
    events = _stream()
    comparison = _run([])
    outcomes = [comparison.observe(event) for event in [*events, *events]]
    comparison.observe(CLOSE)
    scores = sum(1 for event in events if event.type != "dev.rtinfer.label.v1")
    assert outcomes.count(CompareObserved.DUPLICATE) == scores
    report = _reports(comparison)[0]
    once = _reports(_run([*events, CLOSE]))[0]
    assert report.counts.duplicates == scores
    assert report.model_copy(update={"counts": once.counts, "verdict": once.verdict}) == once
    assert report.verdict == once.verdict


def test_canary_rows_put_each_score_on_its_side() -> None:
    inputs = draw_inputs(2, 1500, Kind.BETTER)
    canary = np.random.default_rng(4).random(1500) < 0.5
    swapped = _run([*events_of(inputs, seed=2, canary=canary), CLOSE])
    plain = _run([*events_of(inputs, seed=2), CLOSE])
    report, expected = _reports(swapped)[0], _reports(plain)[0]
    assert report == expected
    roles = {
        event.data.role
        for event in events_of(inputs, seed=2, canary=canary)
        if event.type == SHADOW_PREDICTION
    }
    assert roles == {ShadowRole.CHAMPION, ShadowRole.CHALLENGER}


def test_a_canary_prediction_before_its_champion_shadow_is_the_challengers() -> None:
    time = T0 + timedelta(seconds=10)
    champion, challenger = (CHAMPION, "7", 0.2, 0.5), (CHALLENGER, "8", 0.9, 0.5)
    prediction = prediction_at("pay-canary", challenger, {"country": "FR"}, time)
    comparison = _run([prediction])
    scored = comparison.inputs["pay-canary"]
    assert scored.challenger_score(CHALLENGER, CHAMPION) == ("8", 0.9, True)
    assert scored.champion_score(CHAMPION) is None
    comparison.observe(shadow_of(prediction, champion, ShadowRole.CHAMPION, time))
    assert scored.champion_score(CHAMPION) == ("7", 0.2, False)


def test_same_named_models_are_told_apart_by_the_shadow_role() -> None:
    config = CONFIG.model_copy(update={"challengers": (CHAMPION,)})  # a new version under the same name
    time = T0 + timedelta(seconds=10)
    old, new = (CHAMPION, "7", 0.3, 0.5), (CHAMPION, "8", 0.7, 0.5)
    shadowed = prediction_at("pay-shadowed", old, {}, time)
    canaried = prediction_at("pay-canaried", new, {}, time)
    comparison = _run(
        [
            shadowed,
            shadow_of(shadowed, new, ShadowRole.CHALLENGER, time),
            canaried,
            shadow_of(canaried, old, ShadowRole.CHAMPION, time),
        ],
        config,
    )
    for input_id in ("pay-shadowed", "pay-canaried"):
        scored = comparison.inputs[input_id]
        assert scored.champion_score(CHAMPION) == ("7", 0.3, False), input_id
        assert scored.challenger_score(CHAMPION, CHAMPION) == ("8", 0.7, True), input_id


def test_other_models_are_ignored() -> None:
    time = T0 + timedelta(seconds=10)
    stranger = prediction_at("pay-x", ("fraud-old", "1", 0.5, 0.5), {}, time)
    ours = prediction_at("pay-y", (CHAMPION, "7", 0.5, 0.5), {}, time)
    comparison = _run([])
    assert comparison.observe(stranger) is CompareObserved.OTHER_MODEL
    wrong_champion = shadow_of(ours, ("fraud-old", "1", 0.5, 0.5), ShadowRole.CHAMPION, time)
    assert comparison.observe(wrong_champion) is CompareObserved.OTHER_MODEL
    third = shadow_of(ours, ("fraud-third", "1", 0.5, 0.5), ShadowRole.CHALLENGER, time)
    assert comparison.observe(third) is CompareObserved.OTHER_MODEL
    assert comparison.inputs == {}


def test_scores_after_their_window_was_evaluated_are_late() -> None:
    events = _stream(count=300)
    comparison = _run([*events, CLOSE])
    assert len(_reports(comparison)) == 1
    straggler = prediction_at("pay-straggler", (CHAMPION, "7", 0.5, 0.5), {}, T0 + timedelta(seconds=5))
    assert comparison.observe(straggler) is CompareObserved.LATE
    assert comparison.observe(
        shadow_of(straggler, (CHALLENGER, "8", 0.5, 0.5), ShadowRole.CHALLENGER, T0)
    ) is (CompareObserved.LATE)
    # The next report of that size says so; it also holds the closing prediction (no shadow).
    comparison.observe(closing_prediction(3 * SIZE_S))
    later = _reports(comparison)[-1]
    assert (later.counts.late, later.counts.paired, later.counts.champion_only) == (2, 0, 1)
    assert later.verdict.verdict.value == "not_enough_evidence"


def test_a_window_waits_for_the_evaluation_delay_and_labels_may_come_first() -> None:
    config = CONFIG.model_copy(update={"evaluation_delay_s": 2 * SIZE_S})
    events = _stream(count=400)
    labels = [event for event in events if event.type == "dev.rtinfer.label.v1"]
    scores = [event for event in events if event.type != "dev.rtinfer.label.v1"]
    comparison = _run([*labels[:200], *scores, CLOSE], config)
    assert _reports(comparison) == [] and len(comparison.pending) == 0
    for event in labels[200:]:
        assert comparison.observe(event) is CompareObserved.LABEL_JOINED
    comparison.observe(closing_prediction(3 * SIZE_S + 120))
    report = _reports(comparison)[0]
    assert (report.counts.paired, report.counts.labeled) == (400, 400)


def test_the_latest_label_wins() -> None:
    time = T0 + timedelta(seconds=10)
    prediction = prediction_at("pay-relabelled", (CHAMPION, "7", 0.5, 0.5), {}, time)
    comparison = _run(
        [label_at(prediction, 1, time + timedelta(days=2)), label_at(prediction, 0, time + timedelta(days=1))]
    )
    assert comparison.pending["pay-relabelled"][0] == 1
    comparison.observe(prediction)
    comparison.observe(label_at(prediction, 0, time + timedelta(days=3)))
    assert comparison.inputs["pay-relabelled"].label == 0


def test_memory_is_bounded() -> None:
    config = CONFIG.model_copy(update={"store_max": 100, "pending_labels_max": 10})
    events = _stream(count=300)
    comparison = _run([event for event in events if event.type == "dev.rtinfer.label.v1"], config)
    assert len(comparison.pending) == 10
    for event in events:
        comparison.observe(event)
    assert len(comparison.inputs) == 100 and comparison.evicted == 200
    comparison.observe(closing_prediction(5 * SIZE_S))
    assert len(comparison.inputs) <= 1  # evaluated windows are forgotten


def test_a_restart_from_the_saved_state_gives_the_same_reports() -> None:
    events = [*_stream(count=800), CLOSE]
    straight = _run(events)
    first = _run(events[:900])
    state = orjson.loads(orjson.dumps(first.to_state()))
    resumed = Comparison.from_state(state, CONFIG, source="//tests/monitor", clock=lambda: T0)
    for event in events[900:]:
        resumed.observe(event)
    assert [(event.id, event.data) for event in resumed.outbox] == [
        (event.id, event.data) for event in straight.outbox
    ]
    with pytest.raises(ComparisonStateMismatch, match="compares"):
        Comparison.from_state(
            state, CONFIG.model_copy(update={"challengers": ("other",)}), source="s", clock=lambda: T0
        )


def test_report_and_verdict_events_have_derived_ids() -> None:
    comparison = _run([*_stream(count=300, challenger_version="8"), CLOSE])
    report_event, verdict_event = comparison.outbox
    assert (report_event.type, verdict_event.type) == (COMPARISON_REPORT, PROMOTION_VERDICT)
    report = report_event.data
    assert report_event.id == comparison_report_id(
        (CHAMPION, "7"), (CHALLENGER, "8"), report.window.start, SIZE_S
    )
    assert verdict_event.id == promotion_verdict_id(report_event.id)
    assert verdict_event.causationid == report_event.id and verdict_event.data == report.verdict
    assert report_event.time == report.window.end and report_event.subject == CHALLENGER


def test_idle_windows_close_on_the_clock() -> None:
    now = [T0]
    config = CONFIG.model_copy(update={"idle_close_s": 30.0})
    comparison = Comparison(config, source="//tests/monitor", clock=lambda: now[0])
    for event in _stream(count=200):
        comparison.observe(event)
    assert comparison.tick() == 0
    now[0] = T0 + timedelta(seconds=SIZE_S + 200)
    assert comparison.tick() == 1
    assert len(_reports(comparison)) == 1
