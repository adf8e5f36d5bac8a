"""UnreadableRecordGuard on a real FastStream batch subscriber polling a fake aiokafka consumer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker

from services.adapters.kafka.unreadable import UnreadableRecordGuard

pytestmark = pytest.mark.unit

TOPIC = "payments"
BAD = "BAD"  # a record whose header key is not UTF-8


@dataclass(frozen=True)
class FakeRecord:
    topic: str
    partition: int
    offset: int
    value: str


class FakeKafkaConsumer:
    """The parts of AIOKafkaConsumer the guard and FastStream's BatchSubscriber use, with the
    fetch behaviour that matters: reading from a position parses that position's record batch
    from its start (a BAD record raises even when the position is past it); getmany drains
    partitions in order and moves a partition's position only when its records are returned,
    so one that raises keeps its position while earlier ones in the same call already moved."""

    def __init__(self, logs: dict[int, list[list[str]]]) -> None:
        self.logs = {
            TopicPartition(TOPIC, p): [(v, b) for b, batch in enumerate(batches) for v in batch]
            for p, batches in logs.items()
        }
        self.positions = dict.fromkeys(self.logs, 0)
        self.commits: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[FakeRecord]]:
        remaining = max_records or 500
        drained: dict[TopicPartition, list[FakeRecord]] = {}
        for tp in partitions or sorted(self.logs):
            if tp in self._paused:
                continue
            records = self._read(tp, remaining)
            if records:
                drained[tp] = records
                self.positions[tp] = records[-1].offset + 1
                remaining -= len(records)
            if not remaining:
                break
        return drained

    def _read(self, tp: TopicPartition, count: int) -> list[FakeRecord]:
        log, position = self.logs[tp], self.positions[tp]
        if position >= len(log):
            return []
        start = next(o for o, (_, batch) in enumerate(log) if batch == log[position][1])
        records: list[FakeRecord] = []
        for offset in range(start, len(log)):
            if log[offset][0] == BAD:
                raise UnicodeDecodeError("utf-8", b"x\xff\xfe", 1, 2, "invalid start byte")
            if offset >= position:
                records.append(FakeRecord(tp.topic, tp.partition, offset, log[offset][0]))
            if len(records) == count:
                break
        return records

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def highwater(self, tp: TopicPartition) -> int:
        return len(self.logs[tp])

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self._paused.difference_update(partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.commits.get(tp)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.update(offsets)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    """A real BatchSubscriber, the guard installed on it, the dead letters it reported."""

    def __init__(self, consumer: FakeKafkaConsumer, failing_reports: int = 0) -> None:
        broker = KafkaBroker("localhost:9")
        self.subscriber = broker.subscriber(TOPIC, batch=True, group_id="g", batch_timeout_ms=1)
        self.consumer = consumer
        self.clock = FakeClock()
        self.reports: list[tuple[str, int, int, str]] = []
        self.sleeps: list[float] = []
        self._failing_reports = failing_reports
        self.guard = UnreadableRecordGuard(self.subscriber, self._report, clock=self.clock, sleep=self._sleep)
        self.guard.install()

    async def _report(self, topic: str, partition: int, offset: int, error_text: str) -> None:
        self.reports.append((topic, partition, offset, error_text))
        if self._failing_reports:
            self._failing_reports -= 1
            raise ConnectionError("dead letter topic unavailable")

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def poll(self) -> Sequence[FakeRecord]:
        """One poll through the subscriber, checking that no position passed a record unseen."""
        before = dict(self.consumer.positions)
        batch = await self.subscriber.get_msg(self.consumer)
        for tp, start in before.items():
            passed = set(range(start, self.consumer.positions[tp]))
            returned = {r.offset for r in batch if r.partition == tp.partition}
            skipped = {o for _, p, o, _ in self.reports if p == tp.partition}
            assert passed <= returned | skipped, f"{tp} passed {passed - returned - skipped} unseen"
        return batch

    async def drain(self, polls: int = 10) -> list[str]:
        return [record.value for _ in range(polls) for record in await self.poll()]


def valid(consumer: FakeKafkaConsumer) -> set[str]:
    return {value for log in consumer.logs.values() for value, _ in log if value != BAD}


async def test_the_fake_reproduces_the_loss_without_the_guard() -> None:
    consumer = FakeKafkaConsumer({0: [["a0", "a1"]], 1: [["b0"], [BAD]]})
    subscriber = KafkaBroker("localhost:9").subscriber(TOPIC, batch=True, group_id="g")

    with pytest.raises(UnicodeDecodeError):
        await subscriber.get_msg(consumer)  # type: ignore[arg-type]

    assert consumer.positions[TopicPartition(TOPIC, 0)] == 2  # a0, a1 passed, never returned


async def test_other_partitions_are_restored_and_the_bad_offset_reported_once_and_skipped() -> None:
    consumer = FakeKafkaConsumer(
        {0: [["a0", "a1", "a2"]], 1: [["b0", "b1"], [BAD], ["b3", "b4"]], 2: [["c0"]]}
    )
    harness = Harness(consumer)

    delivered = await harness.drain()

    assert sorted(delivered) == sorted(valid(consumer))  # each once, none lost
    [(topic, partition, offset, text)] = harness.reports
    assert (topic, partition, offset) == (TOPIC, 1, 2)
    assert "UnicodeDecodeError" in text
    assert harness.guard.unreadable == 1
    assert harness.guard.stuck == {}
    assert harness.sleeps == []


async def test_later_records_of_the_same_batch_are_reported_once_each() -> None:
    consumer = FakeKafkaConsumer({0: [["a0", BAD, "a2"], ["a3"]]})
    harness = Harness(consumer)

    delivered = await harness.drain()

    # aiokafka cannot read a2 either: it parses the batch from its start, so it is reported too
    assert delivered == ["a0", "a3"]
    assert [(p, o) for _, p, o, _ in harness.reports] == [(0, 1), (0, 2)]
    assert "share a record batch with unreadable offset 1" in harness.reports[1][3]


async def test_a_failing_dead_letter_pauses_the_partition_and_skips_nothing() -> None:
    consumer = FakeKafkaConsumer({0: [["a0", "a1"]], 1: [["b0"], [BAD], ["b2"]]})
    harness = Harness(consumer, failing_reports=2)
    tp1 = TopicPartition(TOPIC, 1)

    delivered = await harness.drain(polls=5)

    assert sorted(delivered) == ["a0", "a1", "b0"]  # the other partition kept going
    assert len(harness.reports) == 1  # paused: no retry before its pause is over
    assert consumer.positions[tp1] == 1 and consumer.paused() == {tp1}
    assert harness.guard.stuck == {tp1: harness.clock.now}
    harness.guard.check(stuck_after_s=30)

    harness.clock.advance(1.0)  # first pause: 1 s; the retry fails again
    assert await harness.drain(polls=2) == []
    assert len(harness.reports) == 2
    harness.clock.advance(1.5)  # second pause: 2 s
    assert await harness.drain(polls=2) == []
    assert len(harness.reports) == 2

    harness.clock.advance(28)
    with pytest.raises(RuntimeError, match=r"payments\[1\]@1"):
        harness.guard.check(stuck_after_s=30)
    assert await harness.drain(polls=3) == ["b2"]
    assert [o for _, _, o, _ in harness.reports] == [1, 1, 1]
    assert harness.guard.unreadable == 1
    assert harness.guard.stuck == {} and consumer.paused() == set()
    harness.guard.check(stuck_after_s=30)
    assert harness.sleeps == []  # paused, never slept in the consume loop


async def test_the_skip_is_committed_when_everything_before_it_is() -> None:
    consumer = FakeKafkaConsumer({0: [["a0"], [BAD]]})
    tp0 = TopicPartition(TOPIC, 0)
    consumer.positions[tp0] = consumer.commits[tp0] = 1  # a0 processed and committed
    harness = Harness(consumer)

    assert await harness.drain(polls=2) == []

    assert consumer.commits[tp0] == 2  # no lag left behind on a quiet partition


class FakeUnfindableConsumer(FakeKafkaConsumer):
    """A poll of all partitions raises, yet no single partition shows the error."""

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[FakeRecord]]:
        if partitions:
            return {}
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


async def test_an_error_that_cannot_be_isolated_backs_off_without_a_hot_loop() -> None:
    harness = Harness(FakeUnfindableConsumer({0: [["a0"]]}))

    assert await harness.drain(polls=7) == []

    assert harness.sleeps == [1, 2, 4, 8, 16, 30, 30]
    assert list(harness.guard.stuck) == [TopicPartition(TOPIC, 0)]


class FakeDisconnectedConsumer(FakeKafkaConsumer):
    async def getmany(self, *partitions: TopicPartition, **_: Any) -> dict[TopicPartition, list[FakeRecord]]:
        raise KafkaConnectionError("broker down")


async def test_connection_errors_are_left_to_faststream() -> None:
    harness = Harness(FakeDisconnectedConsumer({0: [["a0"]]}))

    with pytest.raises(KafkaConnectionError):
        await harness.poll()  # FastStream's loop logs it and sleeps 5 s


class FakeDroppingConsumer(FakeKafkaConsumer):
    """The connection drops while the guard probes partition 1."""

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[FakeRecord]]:
        if TopicPartition(TOPIC, 1) in partitions:
            raise KafkaConnectionError("broker down")
        return await super().getmany(*partitions, timeout_ms=timeout_ms, max_records=max_records)


async def test_a_connection_error_while_probing_puts_every_position_back() -> None:
    consumer = FakeDroppingConsumer({0: [["a0"], [BAD]], 1: [["b0"]]})
    harness = Harness(consumer)

    with pytest.raises(KafkaConnectionError):
        await harness.poll()

    assert set(consumer.positions.values()) == {0}  # a0 was stepped over, then put back


def test_install_wraps_the_subscriber_poll_once() -> None:
    harness = Harness(FakeKafkaConsumer({0: [["a0"]]}))

    harness.guard.install()

    assert harness.subscriber.get_msg == harness.guard.get_msg
    assert harness.guard._poll is not None
    assert harness.guard._poll.__func__ is type(harness.subscriber).get_msg  # type: ignore[attr-defined]
