"""Per-card rolling state in Redis: idempotent by payment id, survives restarts.

Per card, a sorted set of payment ids scored by the payment's unix time, and a hash from
payment id to "amount|merchant_id". A payment counts once however often it arrives, under
whichever event id (a redelivery, a producer's retry with a new event id); a later copy with
other values replaces the earlier one. Payments older than the longest window (plus a
tolerance for late events) are pruned from both.
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
    payment_id: str
    time_s: float
    amount: float
    merchant_id: str

    def details(self) -> str:
        return f"{self.amount!r}|{self.merchant_id}"


class RedisCardState:
    """Rolling state of every card, keyed under a prefix (one per consumer group)."""

    def __init__(self, client: aioredis.Redis, prefix: str, late_tolerance_s: float = 86400.0) -> None:
        self._client = client
        self.prefix = prefix
        self._retention_s = ROLLING_HORIZON_S + late_tolerance_s

    def _times(self, card_id: str) -> str:
        return f"{self.prefix}:pay:{card_id}"

    def _details(self, card_id: str) -> str:
        return f"{self.prefix}:pay:{card_id}:details"

    async def add(self, facts: Sequence[PaymentFact]) -> dict[str, dict[str, float]]:
        """Record the payments and return the rolling row as of each touched card's latest."""
        if not facts:
            return {}
        cards = sorted({fact.card_id for fact in facts})
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for fact in facts:
                    pipe.zadd(self._times(fact.card_id), {fact.payment_id: fact.time_s})
                    pipe.hset(self._details(fact.card_id), fact.payment_id, fact.details())
                for card_id in cards:
                    pipe.zrange(self._times(card_id), 0, -1, withscores=True)
                    pipe.hgetall(self._details(card_id))
                replies = await pipe.execute()
            reads = replies[2 * len(facts) :]
            rows = {}
            async with self._client.pipeline(transaction=False) as pipe:
                for index, card_id in enumerate(cards):
                    history, details = reads[2 * index], reads[2 * index + 1]
                    rows[card_id] = _row(history, details)
                    cutoff = rows[card_id]["card_last_payment_ts"] - self._retention_s
                    expired = [member for member, time_s in history if time_s < cutoff]
                    if expired:
                        pipe.zrem(self._times(card_id), *expired)
                        pipe.hdel(self._details(card_id), *expired)
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise DependencyUnavailable("redis", f"card state update failed: {error}") from error
        return rows


def _row(history: list[tuple[bytes, float]], details: dict[bytes, bytes]) -> dict[str, float]:
    times = np.fromiter((score for _, score in history), dtype=np.float64, count=len(history))
    amounts = np.empty(len(history))
    merchants = []
    for index, (member, _) in enumerate(history):
        amount, merchant = details[member].decode().split("|", 1)
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
            self._cards.setdefault(fact.card_id, {})[fact.payment_id] = (
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
