"""The feature writer's work on one micro-batch: decode, update state, push, dead-letter.

No broker code here: the FastStream app hands in neutral records and acks afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_random_exponential

from events import Decoded, Event, KafkaOrigin, Payment, dead_letter_event, decode_kafka
from events.reasons import ReasonCode
from services.adapters.kafka.records import SourceRecord
from services.core.errors import DependencyError, DependencyUnavailable
from services.core.ports import EventSink, Pusher, RollingState
from services.features.state import PaymentFact


@dataclass
class BatchReport:
    consumed: int = 0
    counted: int = 0
    dead_lettered: int = 0
    cards_pushed: int = 0
    feature_lag_s: list[float] = field(default_factory=list)


class FeatureWriter:
    """Turns a micro-batch of payment records into online rolling features."""

    def __init__(
        self,
        state: RollingState[PaymentFact],
        pusher: Pusher,
        dead_letters: EventSink,
        *,
        source: str,
        max_event_bytes: int = 65536,
        retry_budget_s: float = 60.0,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 5.0,
        max_future_s: float = 300.0,
        call_timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._state = state
        self._pusher = pusher
        self._dead_letters = dead_letters
        self._source = source
        self._max_bytes = max_event_bytes
        self._retry = {"budget": retry_budget_s, "initial": retry_initial_s, "maximum": retry_max_s}
        self._max_future_s = max_future_s
        self._call_timeout_s = call_timeout_s
        self._clock = clock

    async def process(self, records: Sequence[SourceRecord]) -> BatchReport:
        """Everything in the batch is counted or dead-lettered before this returns.

        Raises DependencyError when state or push keeps failing past the retry budget;
        the caller then redelivers the batch (safe: state is idempotent by event id).
        """
        report = BatchReport(consumed=len(records))
        facts: list[PaymentFact] = []
        letters: list[Event[Any]] = []
        seen_at = self._clock()
        for record in records:
            result = decode_kafka(
                record.key, record.value, list(record.headers), max_bytes=self._max_bytes, received_at=seen_at
            )
            origin = KafkaOrigin(topic=record.topic, partition=record.partition, offset=record.offset)
            if isinstance(result, Decoded) and isinstance(result.event.data, Payment):
                skew_s = result.event.data.timestamp.timestamp() - seen_at.timestamp()
                if skew_s <= self._max_future_s:
                    facts.append(_fact(result.event))
                    continue
                # A payment from the future would become its card's latest row and prune the
                # card's real history: refused, kept where it can be found.
                letters.append(
                    dead_letter_event(
                        result.event,
                        origin=origin,
                        stage="validate",
                        first_seen=seen_at,
                        source=self._source,
                        reason=ReasonCode.TIME_OUT_OF_RANGE,
                        message=f"payment time is {skew_s:.0f}s ahead of the clock "
                        f"(limit {self._max_future_s:.0f}s)",
                        field="timestamp",
                    )
                )
                continue
            if isinstance(result, Decoded):
                letters.append(
                    dead_letter_event(
                        result.event,
                        origin=origin,
                        stage="decode",
                        first_seen=seen_at,
                        source=self._source,
                        reason=ReasonCode.UNKNOWN_TYPE,
                        message=f"the feature writer consumes payments, not {result.event.type}",
                    )
                )
                continue
            letters.append(
                dead_letter_event(
                    result, origin=origin, stage="decode", first_seen=seen_at, source=self._source
                )
            )
        if facts:
            rows = await self._with_retry(lambda: self._state.add(facts))
            frame = _frame(rows)
            await self._with_retry(lambda: self._pusher.push(frame))
            now_s = time.time()
            report.feature_lag_s = [now_s - fact.time_s for fact in facts]
            report.cards_pushed = len(rows)
        if letters:
            await self._dead_letters(letters)
        report.counted = len(facts)
        report.dead_lettered = len(letters)
        return report

    async def _with_retry(self, call: Callable[[], Awaitable[Any]]) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: isinstance(error, DependencyError) and error.retryable),
            wait=wait_random_exponential(multiplier=self._retry["initial"], max=self._retry["maximum"]),
            stop=stop_after_delay(self._retry["budget"]),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    return await asyncio.wait_for(call(), self._call_timeout_s)
                except TimeoutError as error:
                    raise DependencyUnavailable(
                        "features", f"no answer within {self._call_timeout_s:.0f}s"
                    ) from error
        return None


def _fact(event: Event[Any]) -> PaymentFact:
    payment: Payment = event.data
    return PaymentFact(
        card_id=payment.card_id,
        payment_id=payment.payment_id,
        time_s=payment.timestamp.timestamp(),
        amount=payment.amount,
        merchant_id=payment.merchant_id,
    )


def _frame(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "card_id"
    frame = frame.reset_index()
    stamps = pd.to_datetime(frame["card_last_payment_ts"] * 1e6, unit="us", utc=True)
    frame["event_timestamp"] = stamps
    frame["created"] = stamps
    return frame
