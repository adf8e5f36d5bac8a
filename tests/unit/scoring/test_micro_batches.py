"""A poll larger than one micro-batch: concurrent micro-batches, outputs in input order, and a
failure in any of them fails the whole batch (so nothing of it is published)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from events import KafkaOrigin
from events.testing import sample_payment_event
from services.core.errors import DependencyUnavailable
from services.core.ports import ModelInfo
from services.core.scoring.pipeline import Scored, ScoringItem, ScoringPipeline
from services.core.scoring.policy import NeighboursFor, ScoringPolicy
from services.fraud.request import payment_request_features
from tests.unit.scoring.fakes import FEATURES, FakeFeatures, FakeLinearModel, FakeVectors, hours

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class OverlapModel(FakeLinearModel):
    """Counts the predict calls waiting at the same time; fails the call holding `fail_row`."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.waiting = 0
        self.most_waiting = 0
        self.calls = 0
        self.fail_at = fail_at

    async def predict(self, features: np.ndarray) -> np.ndarray:
        self.calls += 1
        number = self.calls
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        await asyncio.sleep(0.01)  # I/O: the other micro-batches get the loop meanwhile
        self.waiting -= 1
        if self.fail_at is not None and number == self.fail_at:
            raise DependencyUnavailable("kserve", "connection reset")
        return await super().predict(features)


def _items(count: int) -> list[ScoringItem]:
    return [
        ScoringItem(
            sample_payment_event(
                payment_id=f"pay-{i}", card_id=f"card-{i % 7}", amount=5.0 + i, timestamp=NOW
            ),
            KafkaOrigin(topic="payments", partition=i % 3, offset=i),
            NOW,
        )
        for i in range(count)
    ]


def _pipeline(model: FakeLinearModel, micro_batch: int | None) -> ScoringPipeline:
    stored = {f"card-{i}": {"card_count_1h": float(i), "card_mean_amount_7d": 40.0} for i in range(7)}
    policy = ScoringPolicy(neighbours_for=NeighboursFor.FLAGGED, micro_batch=micro_batch)
    return ScoringPipeline(
        policy,
        ModelInfo("fake", "v1", FEATURES, 0.5),
        FakeFeatures(stored, NOW - hours(1)),
        model,
        FakeVectors(),
        embed=np.nan_to_num,
        request_features=payment_request_features,
        clock=lambda: NOW,
    )


async def test_micro_batches_overlap_and_outputs_keep_input_order() -> None:
    items = _items(1000)
    whole = await _pipeline(OverlapModel(), None).run(items)
    model = OverlapModel()
    split = await _pipeline(model, 256).run(items)
    assert model.calls == 4 and model.most_waiting == 4  # 256, 256, 256, 232: all in flight
    assert [s.prediction.id for s in split.scored] == [s.prediction.id for s in whole.scored]
    assert [s.item.event.id for s in split.scored] == [f"pay-{i}" for i in range(1000)]

    def payload(scored: Scored) -> dict[str, object]:
        return scored.prediction.data.model_dump(exclude={"latency_ms"})

    assert [payload(s) for s in split.scored] == [payload(s) for s in whole.scored]


async def test_one_failing_micro_batch_fails_the_batch() -> None:
    with pytest.raises(DependencyUnavailable):
        await _pipeline(OverlapModel(fail_at=3), 256).run(_items(1000))
