"""Per-card rolling state in Redis: idempotent by event id, survives restarts.

One sorted set per card; a member is "event_id|amount|merchant_id", its score the event's
unix time. ZADD of a member already present changes nothing, so a redelivered event is
never counted twice. Members older than the longest window (plus a tolerance for late
events) are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.core.errors import DependencyUnavailable
from services.fraud.features import ROLLING_HORIZON_S, latest_rolling_row


@dataclass(frozen=True)
class PaymentFact:
    """What the rolling aggregates need from one payment."""

    card_id: str
    event_id: str
    time_s: float
    amount: float
    merchant_id: str

    def member(self) -> str:
        return f"{self.event_id}|{self.amount!r}|{self.merchant_id}"


class RedisCardState:
    """Rolling state of every card, keyed under a prefix (one per consumer group)."""

    def __init__(self, client: aioredis.Redis, prefix: str, late_tolerance_s: float = 86400.0) -> None:
        self._client = client
        self._prefix = prefix
        self._retention_s = ROLLING_HORIZON_S + late_tolerance_s

    def _key(self, card_id: str) -> str:
        return f"{self._prefix}:card:{card_id}"

    async def add(self, facts: Sequence[PaymentFact]) -> dict[str, dict[str, float]]:
        """Record the payments and return the rolling row as of each touched card's latest."""
        if not facts:
            return {}
        cards = sorted({fact.card_id for fact in facts})
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for fact in facts:
                    pipe.zadd(self._key(fact.card_id), {fact.member(): fact.time_s})
                for card_id in cards:
                    pipe.zrange(self._key(card_id), 0, -1, withscores=True)
                replies = await pipe.execute()
            histories = replies[len(facts) :]
            rows = {}
            async with self._client.pipeline(transaction=False) as pipe:
                for card_id, history in zip(cards, histories, strict=True):
                    rows[card_id] = _row(history)
                    cutoff = rows[card_id]["card_last_payment_ts"] - self._retention_s
                    pipe.zremrangebyscore(self._key(card_id), "-inf", f"({cutoff}")
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise DependencyUnavailable("redis", f"card state update failed: {error}") from error
        return rows


def _row(history: list[tuple[bytes, float]]) -> dict[str, float]:
    times = np.fromiter((score for _, score in history), dtype=np.float64, count=len(history))
    amounts = np.empty(len(history))
    merchants = []
    for index, (member, _) in enumerate(history):
        _event_id, amount, merchant = member.decode().rsplit("|", 2)
        amounts[index] = float(amount)
        merchants.append(merchant)
    return latest_rolling_row(times, amounts, merchants)


class InMemoryCardState:
    """The same state semantics in process memory (embedded demo; lost on restart)."""

    def __init__(self, late_tolerance_s: float = 86400.0) -> None:
        self._cards: dict[str, dict[str, tuple[float, float, str]]] = {}
        self._retention_s = ROLLING_HORIZON_S + late_tolerance_s

    async def add(self, facts: Sequence[PaymentFact]) -> dict[str, dict[str, float]]:
        for fact in facts:
            self._cards.setdefault(fact.card_id, {})[fact.event_id] = (
                fact.time_s,
                fact.amount,
                fact.merchant_id,
            )
        rows = {}
        for card_id in sorted({fact.card_id for fact in facts}):
            history = sorted(self._cards[card_id].items(), key=lambda item: (item[1][0], item[0]))
            times = np.array([time_s for _, (time_s, _, _) in history])
            amounts = np.array([amount for _, (_, amount, _) in history])
            rows[card_id] = latest_rolling_row(times, amounts, [merchant for _, (_, _, merchant) in history])
            cutoff = rows[card_id]["card_last_payment_ts"] - self._retention_s
            self._cards[card_id] = {
                key: value for key, value in self._cards[card_id].items() if value[0] >= cutoff
            }
        return rows
