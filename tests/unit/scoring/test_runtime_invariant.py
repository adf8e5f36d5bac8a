"""The delivery invariant in the runtime, with fakes: every input ends in a prediction or a dead
letter, or the batch is not acknowledged. Audited by set difference, not by absence of errors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from events import Event, KafkaOrigin
from events.testing import sample_payment_event
from services.core.errors import DependencyUnavailable
from services.core.ports import StoredFeature
from services.core.scoring.explain import ExplanationWorker
from services.core.scoring.pipeline import ScoringItem, ScoringPipeline
from services.core.scoring.policy import ExplanationPolicy, ScoringPolicy
from services.fraud.request import payment_request_features
from services.scoring.metrics import ScoringMetrics
from services.scoring.runtime import DependencyDown, Outputs, ScoringRuntime
from tests.unit.scoring.fakes import FakeFeatures, FakeLinearModel, FakeVectors, hours

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OUTPUTS = Outputs("predictions", "explanations", "dlq")
EXPLAIN_ALL = ScoringPolicy(explanation=ExplanationPolicy(always=True))


class PoisonFeatures(FakeFeatures):
    """A fake store that fails with an unforeseen error for any batch holding a poison card."""

    def __init__(self, poison_cards: set[str]) -> None:
        super().__init__({f"card-{i}": {"card_count_1h": 1.0} for i in range(50)}, NOW - hours(1))
        self.poison_cards = poison_cards

    async def read(self, entity_rows: list[dict[str, str]]) -> list[dict[str, StoredFeature]]:
        if any(row["card_id"] in self.poison_cards for row in entity_rows):
            raise ValueError("a value nobody foresaw")
        return await super().read(entity_rows)


class RecordingPublisher:
    """Fake broker: keeps what was published; can refuse like an unreachable Kafka."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: dict[str, list[Event[Any]]] = {}

    async def __call__(self, topic: str, events: Sequence[Event[Any]]) -> None:
        if self.refuse:
            raise DependencyUnavailable("kafka", "MessageSizeTooLargeError")
        self.sent.setdefault(topic, []).extend(events)


def _items(count: int) -> list[ScoringItem]:
    return [
        ScoringItem(
            sample_payment_event(payment_id=f"pay-{i}", card_id=f"card-{i}", amount=10.0, timestamp=NOW),
            KafkaOrigin(topic="payments", partition=i % 3, offset=i),
            NOW,
        )
        for i in range(count)
    ]


async def _pipeline(model: FakeLinearModel, features: FakeFeatures, policy: ScoringPolicy) -> ScoringPipeline:
    return ScoringPipeline(
        policy,
        await model.info(),
        features,
        model,
        FakeVectors(),
        embed=np.nan_to_num,
        request_features=payment_request_features,
        clock=lambda: NOW,
    )


async def _runtime(
    features: FakeFeatures, publish: RecordingPublisher, tracer: Tracer | None = None
) -> ScoringRuntime:
    model = FakeLinearModel()
    pipeline = await _pipeline(model, features, ScoringPolicy())
    worker = ExplanationWorker(model, lambda events: publish("explanations", events), (), source="//t")
    return ScoringRuntime(
        pipeline,
        worker,
        publish,
        OUTPUTS,
        tracer or TracerProvider().get_tracer("test"),
        ScoringMetrics(MeterProvider().get_meter("test")),
        retry_budget_s=0.05,
        retry_initial_s=0.01,
        retry_max_s=0.02,
        breaker_fail_max=3,
        breaker_reset_s=5.0,
        clock=lambda: NOW,
    )


def _audit(items: list[ScoringItem], publish: RecordingPublisher) -> tuple[set[str], set[str], set[str]]:
    inputs = {item.event.id for item in items}
    predicted = {event.causationid for event in publish.sent.get("predictions", [])}
    dead = {event.causationid for event in publish.sent.get("dlq", [])}
    return inputs - (predicted | dead), predicted, dead


async def test_a_poison_item_is_dead_lettered_and_its_batch_mates_are_scored() -> None:
    items = _items(40)
    publish = RecordingPublisher()
    runtime = await _runtime(PoisonFeatures({"card-7", "card-31"}), publish)

    await runtime.handle(items, [])

    lost, predicted, dead = _audit(items, publish)
    assert lost == set()
    assert dead == {"pay-7", "pay-31"}
    assert len(predicted) == 38
    letters = publish.sent["dlq"]
    assert {letter.data.reason for letter in letters} == {"internal"}
    assert all("ValueError" in letter.data.message for letter in letters)
    assert not runtime.breaker_open  # a poison item is not an outage


async def test_a_refused_publish_is_a_dependency_down_never_a_silent_loss() -> None:
    runtime = await _runtime(PoisonFeatures(set()), RecordingPublisher(refuse=True))

    with pytest.raises(DependencyDown, match="publishing to predictions failed"):
        await runtime.handle(_items(5), [])


async def test_the_explanation_worker_survives_an_unforeseen_error() -> None:
    class BrokenOnce(FakeLinearModel):
        calls = 0

        async def explain(self, features: np.ndarray) -> Any:
            BrokenOnce.calls += 1
            if BrokenOnce.calls == 1:
                raise TypeError("an error that is not a DependencyError")
            return await super().explain(features)

    publish = RecordingPublisher()
    model = BrokenOnce()
    pipeline = await _pipeline(model, PoisonFeatures(set()), EXPLAIN_ALL)
    scored = (await pipeline.run(_items(4))).scored
    worker = ExplanationWorker(
        model, lambda events: publish("explanations", events), (), source="//t", batch_size=2
    )
    worker.start()
    try:
        worker.offer(scored[:2])
        await worker.drain(2.0)
        worker.offer(scored[2:])
        await worker.drain(2.0)
    finally:
        await worker.stop()
    assert worker.counters.failed_batches == 1 and worker.counters.dropped == 2
    assert [event.data.prediction_id for event in publish.sent["explanations"]] == [
        item.prediction.id for item in scored[2:]
    ]


async def test_a_dead_worker_task_is_restarted_by_its_supervisor() -> None:
    class LoopBreaksOnce(ExplanationWorker):
        """A worker whose loop itself fails the first time, as a bug outside the batch guard would."""

        broke = False

        async def _run(self) -> None:
            if not LoopBreaksOnce.broke:
                LoopBreaksOnce.broke = True
                raise RuntimeError("the loop itself broke")
            await super()._run()

    publish = RecordingPublisher()
    model = FakeLinearModel()
    pipeline = await _pipeline(model, PoisonFeatures(set()), EXPLAIN_ALL)
    scored = (await pipeline.run(_items(3))).scored
    worker = LoopBreaksOnce(model, lambda events: publish("explanations", events), (), source="//t")
    worker.start()
    await asyncio.sleep(0.05)
    try:
        worker.offer(scored)
        await worker.drain(2.0)
        assert worker.counters.restarts == 1
        assert len(publish.sent["explanations"]) == 3
    finally:
        await worker.stop()
