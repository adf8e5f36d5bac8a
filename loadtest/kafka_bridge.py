"""Kafka I/O for locust users: an asyncio loop with aiokafka in its own native thread.

Locust runs users as gevent greenlets over monkey-patched modules; aiokafka needs asyncio. The
bridge starts a *native* thread (the original `_thread.start_new_thread`, not gevent's) with
an event loop on the original epoll selector. Users hand records over with
`call_soon_threadsafe`; outcomes come back through a deque (appends and pops are atomic) that
a greenlet drains into locust's request events. Bootstrap hosts must be IP literals: name
resolution would go through the loop's default executor, whose threads gevent replaces.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from events import KafkaRecord
from services.adapters.kafka.settings import KafkaSettings

PRODUCE = "produce"
EVENT_TO_PREDICTION = "event->prediction"


class PredictionTimeoutError(Exception):
    """No prediction with the event's id as causationid arrived in time."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One measured request for locust: a produce acknowledgement or an event->prediction match."""

    name: str
    response_time_ms: float
    response_length: int
    error: Exception | None = None


def _original(module: str, name: str) -> Any:
    """The unpatched object when gevent monkey-patched `module`, else the module's own."""
    try:
        from gevent.monkey import get_original
    except ImportError:
        return getattr(__import__(module), name)
    return get_original(module, name)


class KafkaBridge:
    """Produces payment records and matches predictions to them by causationid.

    Args:
        kafka: connection settings (bootstrap as IP literals).
        payments_topic: where payments go.
        predictions_topic: read from its end; a prediction's ce_causationid is the payment's id.
        timeout_s: a payment without a prediction after this long counts as a failure.
    """

    def __init__(
        self, kafka: KafkaSettings, payments_topic: str, predictions_topic: str, *, timeout_s: float = 10.0
    ) -> None:
        self.kafka = kafka
        self.payments_topic = payments_topic
        self.predictions_topic = predictions_topic
        self.timeout_s = timeout_s
        self.outcomes: collections.deque[Outcome] = collections.deque()
        self.ready = False
        self.submitted = 0  # written by the locust side only
        self.settled = 0  # written by the loop thread only: matched, timed out or not sent
        self.failed: BaseException | None = None
        self._pending: dict[str, float] = {}  # event id -> perf_counter at send; loop thread only
        self._sends: set[asyncio.Future[None]] = set()
        self._producer: AIOKafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._finished = False
        self._warmup_records: list[tuple[str, KafkaRecord]] = []
        self._warmup_ids: set[str] = set()
        self.warmup_s: float | None = None  # how long the warm-up took; None if it timed out

    # -- called from the locust side ------------------------------------------------------

    def start(self, warmup: Sequence[tuple[str, KafkaRecord]] = (), wait_s: float = 60.0) -> None:
        """Start the loop thread; return when the reader is positioned and the warm-up is done.

        Args:
            warmup: payments sent first, not measured: the run starts when their predictions
                came back (the scoring consumer group has joined) or 30 s passed.
        """
        self._warmup_records = list(warmup)
        _original("_thread", "start_new_thread")(self._thread_main, ())
        self._wait(lambda: self.ready or self.failed is not None, wait_s, "Kafka bridge start")
        if self.failed is not None:
            raise RuntimeError(f"Kafka bridge failed to start: {self.failed!r}") from self.failed

    def send(self, event_id: str, record: KafkaRecord) -> None:
        """Queue one record for sending; never blocks the calling greenlet. The clock starts now."""
        assert self._loop is not None, "start() first"
        self.submitted += 1
        self._loop.call_soon_threadsafe(self._send_soon, event_id, record, time.perf_counter())

    def drain(self, wait_s: float) -> None:
        """Wait until every submitted payment is matched or timed out (bounded by `wait_s`)."""
        self._wait(lambda: self.settled >= self.submitted, wait_s, "drain", raise_on_timeout=False)

    def stop(self, wait_s: float = 10.0) -> None:
        """Expire what is still pending, close the clients, end the thread."""
        if self._loop is not None and self._stop is not None and not self._finished:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._wait(lambda: self._finished, wait_s, "Kafka bridge stop", raise_on_timeout=False)

    @staticmethod
    def _wait(done: Callable[[], bool], wait_s: float, what: str, *, raise_on_timeout: bool = True) -> None:
        # time.sleep is gevent's under locust, so the greenlet yields while it waits.
        deadline = time.monotonic() + wait_s
        while not done():
            if time.monotonic() > deadline:
                if raise_on_timeout:
                    raise TimeoutError(f"{what} took more than {wait_s}s")
                return
            time.sleep(0.05)

    # -- the loop thread --------------------------------------------------------------------

    def _thread_main(self) -> None:
        loop = asyncio.SelectorEventLoop(_original("selectors", "DefaultSelector")())
        self._loop = loop
        try:
            loop.run_until_complete(self._run())
        except BaseException as error:  # reported to the locust side, which raises
            self.failed = error
        finally:
            loop.close()
            self._finished = True

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        self._warm = asyncio.Event()  # set when the last warm-up prediction arrived
        partitions = await self._prediction_partitions()
        self._producer = AIOKafkaProducer(**self.kafka.producer_kwargs(linger_ms=2))
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(), enable_auto_commit=False, auto_offset_reset="latest"
        )
        await self._producer.start()
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:  # fixes the start position before the first send
                await consumer.position(partition)
            reader = asyncio.create_task(self._read(consumer))
            await self._warm_up()
            self.ready = True
            expiry = asyncio.create_task(self._expire_loop())
            await self._stop.wait()
            for task in (expiry, reader):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._expire(all_pending=True)
        finally:
            await consumer.stop()
            await self._producer.stop()

    async def _warm_up(self, limit_s: float = 30.0) -> None:
        if not self._warmup_records:
            return
        started = time.perf_counter()
        self._warmup_ids = {event_id for event_id, _record in self._warmup_records}
        assert self._producer is not None
        for _event_id, record in self._warmup_records:
            await self._producer.send_and_wait(
                self.payments_topic, record.value, key=record.key, headers=record.headers
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._warm.wait(), limit_s)
        self.warmup_s = time.perf_counter() - started if self._warm.is_set() else None
        self._warmup_ids.clear()

    async def _prediction_partitions(self) -> list[TopicPartition]:
        """The predictions topic's partitions; both topics are created when missing (as auto-create would)."""
        admin = AIOKafkaAdminClient(**self.kafka.aiokafka_kwargs())
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [name for name in (self.payments_topic, self.predictions_topic) if name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(name, 3, 1) for name in missing])
            for _attempt in range(50):  # a topic just created takes a moment to list its partitions
                [description] = await admin.describe_topics([self.predictions_topic])
                numbers = sorted(partition["partition"] for partition in description.get("partitions", []))
                if numbers:
                    return [TopicPartition(self.predictions_topic, number) for number in numbers]
                await asyncio.sleep(0.2)
        finally:
            await admin.close()
        raise RuntimeError(f"topic {self.predictions_topic} has no partitions")

    def _send_soon(self, event_id: str, record: KafkaRecord, started: float) -> None:
        self._pending[event_id] = started
        task = asyncio.ensure_future(self._send(event_id, record, started))
        self._sends.add(task)  # a reference until done, or the task may be collected
        task.add_done_callback(self._sends.discard)

    async def _send(self, event_id: str, record: KafkaRecord, started: float) -> None:
        assert self._producer is not None
        try:
            delivery = await self._producer.send(
                self.payments_topic, record.value, key=record.key, headers=record.headers
            )
            await delivery
        except KafkaError as error:
            self.outcomes.append(Outcome(PRODUCE, _ms_since(started), len(record.value), error))
            if self._pending.pop(event_id, None) is not None:
                self.settled += 1  # not sent: no prediction to wait for, already a failed produce
            return
        self.outcomes.append(Outcome(PRODUCE, _ms_since(started), len(record.value)))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=2000)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    cause = _header(record.headers, "ce_causationid")
                    if cause in self._warmup_ids:
                        self._warmup_ids.discard(cause)
                        if not self._warmup_ids:
                            self._warm.set()
                        continue
                    sent = self._pending.pop(cause, None) if cause else None
                    if sent is not None:
                        self._settle(
                            Outcome(EVENT_TO_PREDICTION, (arrived - sent) * 1000.0, len(record.value or b""))
                        )

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self._expire(all_pending=False)

    def _expire(self, *, all_pending: bool) -> None:
        now = time.perf_counter()
        late = [eid for eid, sent in self._pending.items() if all_pending or now - sent > self.timeout_s]
        for event_id in late:
            waited = now - self._pending.pop(event_id)
            reason = (
                f"no prediction within {self.timeout_s:g}s" if waited > self.timeout_s else "stopped waiting"
            )
            self._settle(Outcome(EVENT_TO_PREDICTION, waited * 1000.0, 0, PredictionTimeoutError(reason)))

    def _settle(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.settled += 1


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _header(headers: Any, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return bytes(value).decode("utf-8", "replace")
    return None
