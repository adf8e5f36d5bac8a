"""Keeps a FastStream batch subscriber going past Kafka records that aiokafka cannot parse.

Why: aiokafka parses fetched bytes inside `consumer.getmany()` and decodes header keys as
UTF-8, so one record with a non-UTF-8 header key (or a corrupt batch) makes the call raise.
FastStream's consume loop does not catch that: the task dies and restarts at once (a retry
storm), and what the failing call had already taken from other partitions advanced their
positions without reaching the handler, so the next commit moved past it (loss).

The guard wraps the subscriber's `get_msg`: it notes every position before each poll; on a
parse error it puts them all back, steps the partitions that did not advance one record at a
time up to the one that raises, awaits `on_unreadable(topic, partition, offset, error_text)`
(the service's dead letter) and seeks past it. aiokafka parses a record batch from its start,
so later records of the same batch raise too: each is reported once and skipped. If
`on_unreadable` fails, the partition is paused and retried after a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CorruptRecordException, IllegalOperation, IllegalStateError, KafkaError
from faststream.kafka.subscriber.usecase import BatchSubscriber

log = logging.getLogger("rtinfer.kafka.unreadable")

# Raised while aiokafka parses fetched bytes (CorruptRecordException is also InvalidMessageError:
# bad CRC or record framing). Other KafkaErrors are connection trouble: FastStream sleeps on them.
PARSE_ERRORS: tuple[type[Exception], ...] = (UnicodeDecodeError, CorruptRecordException)

OnUnreadable = Callable[[str, int, int, str], Awaitable[None]]
Poll = Callable[[AIOKafkaConsumer], Awaitable[tuple[Any, ...]]]


@dataclass
class _Stuck:
    offset: int
    since: datetime
    failures: int = 0
    retry_at: datetime | None = None  # paused until then: on_unreadable failed


class UnreadableRecordGuard:
    """Install on a batch subscriber (after `broker.subscriber(..., batch=True)`, before start).

    Args:
        on_unreadable: awaited with (topic, partition, offset, error_text) before a record is
            skipped; if it raises, the record is not skipped and its partition is paused.
        clock: wall clock (stuck since-when, pause deadlines).
        sleep: waits out the pause after a poll failed and no unreadable record was found.
        probe_timeout_ms: how long one partition's probe waits for a fetch.
        max_skips_per_call: unreadable offsets skipped per poll at most.
    """

    def __init__(
        self,
        subscriber: BatchSubscriber,
        on_unreadable: OnUnreadable,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        probe_timeout_ms: int = 1000,
        max_skips_per_call: int = 100,
        initial_pause_s: float = 1.0,
        max_pause_s: float = 30.0,
    ) -> None:
        self._subscriber = subscriber
        self._on_unreadable = on_unreadable
        self._clock = clock
        self._sleep = sleep
        self._probe_timeout_ms = probe_timeout_ms
        self._max_skips = max_skips_per_call
        self._initial_pause_s = initial_pause_s
        self._max_pause_s = max_pause_s
        self.unreadable = 0  # records reported and skipped
        self._poll: Poll | None = None
        self._stuck: dict[TopicPartition, _Stuck] = {}
        self._reported: deque[tuple[TopicPartition, int]] = deque(maxlen=1024)
        self._failed_polls = 0
        self._skips_left = 0

    def install(self) -> None:
        """Route the subscriber's polls through the guard (once; a second call does nothing)."""
        if self._poll is None:
            self._poll = self._subscriber.get_msg
            self._subscriber.get_msg = self.get_msg  # type: ignore[method-assign]

    @property
    def stuck(self) -> dict[TopicPartition, datetime]:
        """Partitions that cannot get past a record now, with the time they first failed."""
        return {tp: entry.since for tp, entry in self._stuck.items()}

    def check(self, stuck_after_s: float) -> None:
        """Raise (a failing readiness check) while a partition is stuck for `stuck_after_s`."""
        now = self._clock()
        late = {tp: e for tp, e in self._stuck.items() if (now - e.since).total_seconds() >= stuck_after_s}
        if late:
            where = ", ".join(f"{tp.topic}[{tp.partition}]@{e.offset}" for tp, e in late.items())
            raise RuntimeError(f"stuck on unreadable records for over {stuck_after_s:.0f}s: {where}")

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[Any, ...]:
        """The subscriber's poll: its own batch, or what was readable after a parse error."""
        assert self._poll is not None, "install() the guard first"
        before = await self._positions(consumer)
        self._settle(consumer, before)
        try:
            batch = await self._poll(consumer)
        except PARSE_ERRORS as error:
            return await self._recover(consumer, before, error)
        self._failed_polls = 0
        return batch

    async def _recover(
        self, consumer: AIOKafkaConsumer, before: dict[TopicPartition, int], error: Exception
    ) -> tuple[Any, ...]:
        after = await self._positions(consumer)
        self._seek_all(consumer, before)  # what the failed poll took elsewhere is read again
        paused = consumer.paused()
        # The raising partition did not advance, is not paused, and has data.
        suspects = [tp for tp, at in sorted(before.items()) if after.get(tp) == at and tp not in paused]
        suspects = [tp for tp in suspects if before[tp] < (consumer.highwater(tp) or before[tp] + 1)]
        taken: list[Any] = []
        self._skips_left = self._max_skips
        share = max(1, (self._subscriber.max_records or 500) // max(1, len(suspects)))  # none starves
        try:
            found = [await self._step(consumer, tp, taken, share) for tp in suspects]
        except BaseException:
            self._seek_all(consumer, before)  # nothing half-read leaves with its position moved
            raise
        if any(found) or taken:
            self._failed_polls = 0
            return tuple(taken)
        self._failed_polls += 1
        pause_s = self._pause_s(self._failed_polls)
        for tp in suspects:
            self._stuck.setdefault(tp, _Stuck(before[tp], self._clock()))
        log.error("poll failed (%r), no unreadable record found; next try in %.1fs", error, pause_s)
        await self._sleep(pause_s)
        return tuple(taken)

    async def _step(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, taken: list[Any], limit: int
    ) -> bool:
        """Read up to `limit` records of `tp` one at a time into `taken`; True if one was unreadable."""
        found = False
        end = len(taken) + limit
        while len(taken) < end and self._skips_left > 0:
            try:
                fetched = await consumer.getmany(tp, timeout_ms=self._probe_timeout_ms, max_records=1)
            except PARSE_ERRORS as error:
                found = True
                if not await self._skip(consumer, tp, error):
                    break
                continue
            if not fetched.get(tp):
                break
            taken.extend(fetched[tp])
        return found

    async def _skip(self, consumer: AIOKafkaConsumer, tp: TopicPartition, error: Exception) -> bool:
        """Report the record at `tp`'s position and seek past it; False if the report failed."""
        offset = await consumer.position(tp)
        text = f"{type(error).__name__}: {error}"[:500]
        if (tp, offset - 1) in self._reported:
            text += f" (may share a record batch with unreadable offset {offset - 1})"
        if (tp, offset) not in self._reported:
            try:
                await self._on_unreadable(tp.topic, tp.partition, offset, text)
            except Exception as failure:  # not skipped: paused, tried again later
                self._hold(consumer, tp, offset, failure)
                return False
            self._reported.append((tp, offset))
            self.unreadable += 1
            log.warning("skipped unreadable record %s@%d: %s", tp, offset, text)
        consumer.seek(tp, offset + 1)
        self._stuck.pop(tp, None)
        self._skips_left -= 1
        await self._commit_past(consumer, tp, offset)
        return True

    def _hold(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, failure: Exception) -> None:
        now = self._clock()
        entry = self._stuck.get(tp)
        if entry is None or entry.offset != offset:
            entry = self._stuck[tp] = _Stuck(offset, now)
        entry.failures += 1
        pause_s = self._pause_s(entry.failures)
        entry.retry_at = now + timedelta(seconds=pause_s)
        consumer.seek(tp, offset)
        consumer.pause(tp)
        log.error("reporting unreadable %s@%d failed (%r); paused %.1fs", tp, offset, failure, pause_s)

    async def _commit_past(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        # With everything before it committed, commit the skip too: a quiet partition would keep
        # it as lag, and a restart would report it again.
        try:
            if (await consumer.committed(tp) or 0) == offset:
                await consumer.commit({tp: offset + 1})
        except (KafkaError, IllegalOperation) as error:
            log.warning("could not commit past %s@%d: %r", tp, offset, error)

    def _settle(self, consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]) -> None:
        """Forget partitions that moved on or left; resume those whose pause is over."""
        now = self._clock()
        for tp, entry in list(self._stuck.items()):
            if positions.get(tp, entry.offset + 1) > entry.offset:  # moved past it, or revoked
                del self._stuck[tp]
            elif entry.retry_at is not None and entry.retry_at <= now:
                entry.retry_at = None
                consumer.resume(tp)

    async def _positions(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        positions: dict[TopicPartition, int] = {}
        for tp in consumer.assignment():
            with contextlib.suppress(IllegalStateError):  # revoked meanwhile
                positions[tp] = await consumer.position(tp)
        return positions

    def _seek_all(self, consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]) -> None:
        for tp, offset in positions.items():
            with contextlib.suppress(IllegalStateError):
                consumer.seek(tp, offset)

    def _pause_s(self, failures: int) -> float:
        return min(self._max_pause_s, self._initial_pause_s * 2 ** (failures - 1))
