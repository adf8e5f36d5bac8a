"""Champion and challengers in the scoring core, with fakes: shadow scores, canary sides, and a
challenger that fails or hangs never costing the champion a prediction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from events import Decision, KafkaOrigin, ShadowRole
from events.testing import sample_payment_event
from services.core.ports import ModelInfo
from services.core.scoring.challengers import Challenger, ChallengerPolicy, ShadowMissing, canary_side
from services.core.scoring.pipeline import ScoringItem, ScoringPipeline
from services.core.scoring.policy import DecisionPolicy, NeighboursFor, ScoringPolicy
from services.fraud.request import payment_request_features
from tests.unit.scoring.fakes import FEATURES, FakeFeatures, FakeLinearModel, FakeVectors, hours

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeChallenger:
    """A challenger whose score is the champion's fake score shifted; or failing, or hanging."""

    def __init__(self, name: str, shift: float = 0.1, mode: str = "ok") -> None:
        self._name = name
        self.shift = shift
        self.mode = mode
        self.calls = 0
        self._inner = FakeLinearModel()

    @property
    def name(self) -> str:
        return self._name

    def info(self) -> ModelInfo | None:
        return ModelInfo(self._name, "c1", FEATURES, 0.5)

    async def predict(self, features: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.mode == "down":
            raise ShadowMissing("unavailable", "connection refused")
        if self.mode == "broken":
            raise RuntimeError("a bug in the challenger's client")
        if self.mode == "hang":
            await asyncio.Event().wait()
        return np.clip(await self._inner.predict(features) + self.shift, 0.0, 1.0)


def _items(count: int, cards: int = 50) -> list[ScoringItem]:
    return [
        ScoringItem(
            sample_payment_event(
                payment_id=f"pay-{i}", card_id=f"card-{i % cards}", amount=10.0 + 40 * (i % 5), timestamp=NOW
            ),
            KafkaOrigin(topic="payments", partition=0, offset=i),
            NOW,
        )
        for i in range(count)
    ]


async def _pipeline(
    policy: ChallengerPolicy, neighbours_for: NeighboursFor = NeighboursFor.FLAGGED
) -> ScoringPipeline:
    model = FakeLinearModel()
    stored = {f"card-{i}": {"card_count_1h": float(i % 7), "card_mean_amount_7d": 50.0} for i in range(50)}
    return ScoringPipeline(
        ScoringPolicy(decision=DecisionPolicy(review_at=0.5, decline_at=0.9), neighbours_for=neighbours_for),
        await model.info(),
        FakeFeatures(stored, NOW - hours(1)),
        model,
        FakeVectors(),
        embed=np.nan_to_num,
        request_features=payment_request_features,
        clock=lambda: NOW,
        challengers=policy,
    )


async def test_every_input_gets_one_shadow_per_challenger_linked_to_its_prediction() -> None:
    first, second = FakeChallenger("fraud-a", 0.1), FakeChallenger("fraud-b", -0.05)
    rules = DecisionPolicy(review_at=0.3, decline_at=0.8)
    pipeline = await _pipeline(
        ChallengerPolicy((Challenger(first, rules), Challenger(second, DecisionPolicy(0.5, 0.9))))
    )
    result = await pipeline.run(_items(40))
    assert len(result.scored) == 40 and not result.shadow_missing
    for scored in result.scored:
        prediction = scored.prediction
        assert prediction.data.model_name == "fake"
        assert [s.data.model_name for s in scored.shadows] == ["fraud-a", "fraud-b"]
        for shadow in scored.shadows:
            assert shadow.causationid == prediction.id and shadow.data.prediction_id == prediction.id
            assert shadow.data.input_id == prediction.data.input_id
            assert shadow.data.role is ShadowRole.CHALLENGER and shadow.data.decided_by == "fake"
            assert shadow.partitionkey == prediction.partitionkey
        a = scored.shadows[0].data
        assert a.score == pytest.approx(min(prediction.data.score + 0.1, 1.0))
        assert a.decision == rules.decide(a.score) and a.threshold == 0.3 and a.decline_at == 0.8
    assert len({s.id for scored in result.scored for s in scored.shadows}) == 80


@pytest.mark.parametrize("mode", ["down", "broken", "hang"])
async def test_a_failing_or_hanging_challenger_costs_the_champion_nothing(mode: str) -> None:
    healthy, failing = FakeChallenger("fraud-a"), FakeChallenger("fraud-b", mode=mode)
    policy = ChallengerPolicy(
        (Challenger(healthy, DecisionPolicy()), Challenger(failing, DecisionPolicy())), wait_s=0.01
    )
    alone = await (await _pipeline(ChallengerPolicy())).run(_items(30))
    result = await (await _pipeline(policy)).run(_items(30))
    assert [s.prediction.id for s in result.scored] == [s.prediction.id for s in alone.scored]
    assert [s.prediction.data.score for s in result.scored] == [s.prediction.data.score for s in alone.scored]
    assert all([s.data.model_name for s in scored.shadows] == ["fraud-a"] for scored in result.scored)
    reason = {"down": "unavailable", "broken": "error", "hang": "late"}[mode]
    assert result.shadow_missing == {("fraud-b", reason): 30}


def test_canary_share_is_within_two_points_and_a_card_never_switches_at_one_share() -> None:
    cards = [f"card-{i:05d}" for i in range(10_000)]
    for share in (0.05, 0.2, 0.5):
        sides = [canary_side(card, share) for card in cards]
        assert abs(sum(sides) / len(cards) - share) <= 0.02
        assert sides == [canary_side(card, share) for card in cards]  # same setting, same side
    # Rolling up only moves cards onto the canary; rolling back only moves them off.
    at_10 = {card for card in cards if canary_side(card, 0.1)}
    at_30 = {card for card in cards if canary_side(card, 0.3)}
    assert at_10 < at_30
    assert not any(canary_side(card, 0.0) for card in cards)
    assert all(canary_side(card, 1.0) for card in cards)


async def test_canary_rows_are_decided_by_the_challenger_with_the_champion_as_their_shadow() -> None:
    canary = FakeChallenger("fraud-next", 0.3)
    rules = DecisionPolicy(review_at=0.6, decline_at=0.95)
    policy = ChallengerPolicy((Challenger(canary, rules),), canary="fraud-next", canary_share=0.5)
    result = await (await _pipeline(policy, NeighboursFor.ALL)).run(_items(200))
    by_canary = [s for s in result.scored if s.prediction.data.model_name == "fraud-next"]
    by_champion = [s for s in result.scored if s.prediction.data.model_name == "fake"]
    assert result.canary_decided == len(by_canary) > 0 and by_champion
    for scored in by_canary:
        card = scored.item.event.data.card_id
        assert canary_side(card, 0.5)
        (shadow,) = scored.shadows
        assert shadow.data.role is ShadowRole.CHAMPION and shadow.data.model_name == "fake"
        assert shadow.data.decided_by == "fraud-next"
        assert scored.prediction.data.score == pytest.approx(min(shadow.data.score + 0.3, 1.0))
        assert scored.prediction.data.threshold == 0.6
        assert scored.prediction.data.decision == rules.decide(scored.prediction.data.score)
    for scored in by_champion:
        assert not canary_side(scored.item.event.data.card_id, 0.5)
        (shadow,) = scored.shadows
        assert shadow.data.role is ShadowRole.CHALLENGER and shadow.data.model_name == "fraud-next"
    cards = {}
    for scored in result.scored:  # one card, one side
        cards.setdefault(scored.item.event.data.card_id, set()).add(scored.prediction.data.model_name)
    assert all(len(sides) == 1 for sides in cards.values())


async def test_canary_down_means_the_champion_decides_everything() -> None:
    canary = FakeChallenger("fraud-next", mode="down")
    policy = ChallengerPolicy((Challenger(canary, DecisionPolicy()),), canary="fraud-next", canary_share=0.5)
    result = await (await _pipeline(policy)).run(_items(50))
    assert {s.prediction.data.model_name for s in result.scored} == {"fake"}
    assert result.canary_decided == 0 and result.shadow_missing == {("fraud-next", "unavailable"): 50}


async def test_neighbours_follow_the_deciding_model() -> None:
    # flagged policy: rows the canary flags carry neighbours even when the champion approved them
    canary = FakeChallenger("fraud-next", 0.9)
    policy = ChallengerPolicy((Challenger(canary, DecisionPolicy()),), canary="fraud-next", canary_share=1.0)
    result = await (await _pipeline(policy)).run(_items(20))
    assert all(s.prediction.data.decision is not Decision.APPROVE for s in result.scored)
    assert all(len(s.prediction.data.neighbours) == 5 for s in result.scored)


def test_policy_refuses_an_unknown_canary_and_repeated_names() -> None:
    one = Challenger(FakeChallenger("a"), DecisionPolicy())
    with pytest.raises(ValueError, match="not a challenger"):
        ChallengerPolicy((one,), canary="b", canary_share=0.1)
    with pytest.raises(ValueError, match="repeat"):
        ChallengerPolicy((one, one))
    with pytest.raises(ValueError, match="canary_share"):
        ChallengerPolicy((one,), canary="a", canary_share=1.5)
