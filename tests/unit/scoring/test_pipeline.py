"""The scoring core with fakes: one call per dependency per batch, freshness, degrade, explain."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from events import Decision, KafkaOrigin
from events.testing import sample_payment_event
from services.core.errors import DependencyUnavailable
from services.core.scoring.explain import ExplanationWorker
from services.core.scoring.pipeline import ScoringItem, ScoringPipeline
from services.core.scoring.policy import (
    DecisionPolicy,
    ExplanationPolicy,
    FreshnessPolicy,
    NeighboursFor,
    ScoringPolicy,
    StalePolicy,
)
from services.fraud.request import payment_request_features
from tests.unit.scoring.fakes import FEATURES, FakeFeatures, FakeLinearModel, FakeVectors, hours

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _items(count: int) -> list[ScoringItem]:
    return [
        ScoringItem(
            sample_payment_event(
                payment_id=f"pay-{i}", card_id=f"card-{i % 3}", amount=10.0 + 100 * (i % 2), timestamp=NOW
            ),
            KafkaOrigin(topic="payments", partition=0, offset=i),
            NOW,
        )
        for i in range(count)
    ]


async def _pipeline(
    policy: ScoringPolicy,
    features: FakeFeatures,
    model: FakeLinearModel | None = None,
    vectors: FakeVectors | None = None,
) -> ScoringPipeline:
    model = model or FakeLinearModel()
    return ScoringPipeline(
        policy,
        await model.info(),
        features,
        model,
        vectors if vectors is not None else FakeVectors(),
        embed=np.nan_to_num,
        request_features=payment_request_features,
        clock=lambda: NOW,
    )


def _stored(count_1h: float = 1.0, mean: float = 50.0) -> dict[str, dict[str, float]]:
    return {f"card-{i}": {"card_count_1h": count_1h, "card_mean_amount_7d": mean} for i in range(3)}


async def test_one_read_one_predict_per_batch_and_scores_match_model() -> None:
    features, model = FakeFeatures(_stored(), NOW - hours(1)), FakeLinearModel()
    pipeline = await _pipeline(ScoringPolicy(neighbours_for=NeighboursFor.ALL), features, model)
    result = await pipeline.run(_items(8))
    assert len(features.calls) == 1 and len(features.calls[0]) == 8
    assert model.batches == [8]
    matrix = np.stack([scored.features for scored in result.scored])
    assert np.allclose([s.prediction.data.score for s in result.scored], await model.predict(matrix))
    assert [s.prediction.data.input_id for s in result.scored] == [f"pay-{i}" for i in range(8)]
    first = result.scored[0].prediction
    assert first.causationid == "pay-0" and first.partitionkey == "card-0"
    assert set(first.data.features) == set(FEATURES)
    assert first.data.features["card_count_1h"].age_s == 3600.0
    assert len(first.data.neighbours) == 5 and not first.data.degraded


async def test_same_input_gives_same_prediction_id() -> None:
    pipeline = await _pipeline(ScoringPolicy(), FakeFeatures(_stored(), NOW))
    first = await pipeline.run(_items(2))
    again = await pipeline.run(_items(2))
    assert [s.prediction.id for s in first.scored] == [s.prediction.id for s in again.scored]


@pytest.mark.parametrize("on_stale", list(StalePolicy))
async def test_stale_features_follow_the_policy(on_stale: StalePolicy) -> None:
    freshness = FreshnessPolicy(
        max_age_s=(("card_*", 1800.0),), on_stale=on_stale, defaults=(("card_count_1h", 0.0),)
    )
    pipeline = await _pipeline(
        ScoringPolicy(freshness=freshness), FakeFeatures(_stored(count_1h=4), NOW - hours(2))
    )
    result = await pipeline.run(_items(3))
    if on_stale is StalePolicy.REJECT:
        assert not result.scored and len(result.failures) == 3
        assert {f.stage for f in result.failures} == {"enrich"}
        assert {f.reason for f in result.failures} == {"stale_features"}
        return
    assert len(result.scored) == 3 and not result.failures
    used = result.scored[0].prediction.data.features["card_count_1h"]
    assert used.stale
    assert "stale_features" in result.scored[0].prediction.data.degraded
    if on_stale is StalePolicy.DEFAULT:
        assert used.defaulted and used.value == 0.0
    else:
        assert used.value == 4.0


async def test_missing_features_are_nan_not_stale() -> None:
    pipeline = await _pipeline(ScoringPolicy(), FakeFeatures({}, None))
    result = await pipeline.run(_items(1))
    use = result.scored[0].prediction.data.features["card_count_1h"]
    assert use.value is None and not use.stale and use.age_s is None
    assert np.isnan(result.scored[0].features[FEATURES.index("card_count_1h")])


async def test_vector_search_down_degrades_and_model_down_raises() -> None:
    everyone = ScoringPolicy(neighbours_for=NeighboursFor.ALL)
    pipeline = await _pipeline(everyone, FakeFeatures(_stored(), NOW), vectors=FakeVectors(down=True))
    result = await pipeline.run(_items(2))
    assert all(s.prediction.data.degraded == ["no_neighbours"] for s in result.scored)
    assert result.degraded == 2
    strict = await _pipeline(
        ScoringPolicy(neighbours_for=NeighboursFor.ALL, degrade_without_neighbours=False),
        FakeFeatures(_stored(), NOW),
        vectors=FakeVectors(down=True),
    )
    with pytest.raises(DependencyUnavailable, match="weaviate"):
        await strict.run(_items(2))
    down = await _pipeline(ScoringPolicy(), FakeFeatures(_stored(), NOW), model=FakeLinearModel(down=True))
    with pytest.raises(DependencyUnavailable, match="kserve"):
        await down.run(_items(2))


async def test_decisions_and_explanation_policy() -> None:
    policy = ScoringPolicy(
        decision=DecisionPolicy(review_at=0.1, decline_at=0.9),
        explanation=ExplanationPolicy(flagged=True),
    )
    pipeline = await _pipeline(policy, FakeFeatures(_stored(count_1h=2), NOW))
    result = await pipeline.run(_items(4))
    for scored in result.scored:
        data = scored.prediction.data
        assert data.decision == policy.decision.decide(data.score)
        assert data.explained == (data.decision is not Decision.APPROVE)
        assert (scored.explain is not None) == data.explained


async def test_explanations_are_exact_and_linked() -> None:
    model = FakeLinearModel()
    policy = ScoringPolicy(explanation=ExplanationPolicy(always=True))
    pipeline = await _pipeline(policy, FakeFeatures(_stored(), NOW), model)
    result = await pipeline.run(_items(5))
    emitted = []

    async def sink(events):  # type: ignore[no-untyped-def]
        emitted.extend(events)

    worker = ExplanationWorker(model, sink, FEATURES, source="/tests", clock=lambda: NOW)
    worker.start()
    worker.offer(result.scored)
    await worker.drain(5)
    await worker.stop()
    assert worker.counters.produced == 5 and len(emitted) == 5
    for scored, event in zip(result.scored, emitted, strict=True):
        explanation = event.data
        assert event.causationid == scored.prediction.id
        raw = sum(explanation.contributions.values()) + explanation.base_value
        assert np.isclose(1 / (1 + np.exp(-raw)), scored.prediction.data.score, atol=1e-6)
        assert abs(explanation.top[0].contribution) == max(abs(v) for v in explanation.contributions.values())


async def test_full_explanation_queue_drops_and_counts() -> None:
    model = FakeLinearModel()
    pipeline = await _pipeline(
        ScoringPolicy(explanation=ExplanationPolicy(always=True)), FakeFeatures(_stored(), NOW)
    )
    result = await pipeline.run(_items(5))

    async def sink(events):  # type: ignore[no-untyped-def]
        return None

    worker = ExplanationWorker(model, sink, FEATURES, source="/tests", capacity=2)
    worker.offer(result.scored)  # not started: the queue holds two
    assert worker.counters.dropped == 3 and worker.pending == 2


async def test_features_written_after_the_event_count_as_stale() -> None:
    pipeline = await _pipeline(ScoringPolicy(), FakeFeatures(_stored(), NOW + hours(1)))
    result = await pipeline.run(_items(1))
    used = result.scored[0].prediction.data.features["card_count_1h"]
    assert used.stale and used.age_s == 0.0
    assert "stale_features" in result.scored[0].prediction.data.degraded


@pytest.mark.parametrize("mode", list(NeighboursFor))
async def test_neighbours_only_where_the_policy_wants_them(mode: NeighboursFor) -> None:
    """The vector search runs once, for exactly the rows the policy names; only those carry
    neighbours, and a failed search flags only those."""
    policy = ScoringPolicy(
        neighbours_for=mode,
        decision=DecisionPolicy(review_at=0.2, decline_at=0.99),  # the fake scores 0.06 or 0.31
        explanation=ExplanationPolicy(flagged=False, sample_rate=0.5),
    )
    vectors = FakeVectors()
    pipeline = await _pipeline(policy, FakeFeatures(_stored(), NOW), vectors=vectors)
    result = await pipeline.run(_items(40))
    predictions = [s.prediction.data for s in result.scored]
    flagged = [p.decision is not Decision.APPROVE for p in predictions]
    explained = [p.explained for p in predictions]
    assert any(flagged) and not all(flagged) and any(explained) and not all(explained)
    wanted = {
        NeighboursFor.ALL: [True] * len(predictions),
        NeighboursFor.FLAGGED: flagged,
        NeighboursFor.EXPLAINED: explained,
        NeighboursFor.NONE: [False] * len(predictions),
    }[mode]
    assert [len(p.neighbours) == 5 for p in predictions] == wanted
    assert vectors.searched == ([sum(wanted)] if any(wanted) else [])
    assert not any(p.degraded for p in predictions)

    down = await _pipeline(policy, FakeFeatures(_stored(), NOW), vectors=FakeVectors(down=True))
    degraded = [("no_neighbours" in s.prediction.data.degraded) for s in (await down.run(_items(40))).scored]
    assert degraded == wanted
