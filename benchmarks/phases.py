"""Benchmark phases against one runner: a pre-produced backlog, and a fixed produce rate.

Every phase has its own event ids (a tag in front of the payment id), so a phase's
records are told apart on shared topics; CPU is charged over the phase's own window.
"""

from __future__ import annotations

import cProfile
import gc
import logging
from dataclasses import dataclass, field

import pandas as pd

from benchmarks.cpu import CpuSampler, GcWatch
from benchmarks.kafka_io import (
    OutRecord,
    PreEncoded,
    create_topics,
    paced_send,
    paced_send_in_child,
    read_topic,
    wait_committed,
)
from benchmarks.latency import (
    Percentiles,
    header_text,
    latencies_ms,
    rate_per_s,
    stage_percentiles,
    window_s,
)
from benchmarks.runners import Runner, TopicSet
from events import KafkaRecord
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings

log = logging.getLogger("rtinfer.bench")
KEEP_UP = 0.9  # a rate is kept up with when outputs flow at 90% of it or more, and all arrive


@dataclass
class PhaseResult:
    variant: str
    kind: str  # "backlog", "rate" (the fixed rate all variants get) or "step" (rtinfer's steps)
    events: int
    received: int
    rate: float  # outputs per second over the phase's window
    seconds: float
    cpu: dict[str, float]
    target_rate: float | None = None
    latency: Percentiles | None = None
    kept_up: bool = True
    stages: dict[str, Percentiles] = field(default_factory=dict)  # recorded in process
    event_stages: dict[str, Percentiles] = field(default_factory=dict)  # from predictions' latency_ms
    gc_pauses_ms: list[float] = field(default_factory=list)  # full collections in this process
    processes: int | None = None  # scoring processes; None: the variant ran in the bench process

    @property
    def label(self) -> str:
        """The variant, and its process count when it ran as scoring processes."""
        if self.processes is None:
            return self.variant
        return f"{self.variant}, {self.processes} process{'es' if self.processes > 1 else ''}"

    def cpu_ms_per_event(self, process: str | None = None) -> float:
        """CPU ms per output event of one process (a prefix such as "scoring" sums its
        numbered processes), or of all processes."""
        if process is None:
            seconds = sum(self.cpu.values())
        else:
            seconds = sum(value for name, value in self.cpu.items() if _named(name, process))
        return seconds * 1000.0 / max(self.received, 1)


def _named(name: str, process: str) -> bool:
    """`name` is `process`, or one of its numbered instances ("scoring" covers "scoring2")."""
    if name == process:
        return True
    number = name[len(process) :]
    return name.startswith(process) and number.isdigit() and not process[-1:].isdigit()


def tagged_records(payments: pd.DataFrame, tag: str, count: int) -> list[KafkaRecord]:
    """`count` payment events cycling through `payments`, ids made unique with `tag`."""
    frames = []
    for cycle in range(-(-count // len(payments))):
        frame = payments.iloc[: count - cycle * len(payments)].copy()
        frame["payment_id"] = f"{tag}.{cycle}." + frame["payment_id"].astype(str)
        frames.append(frame)
    return list(payment_records(pd.concat(frames, ignore_index=True), "/rtinfer/bench"))


def _tagged(records: list[OutRecord], header: str, tag: str) -> list[OutRecord]:
    prefix = f"{tag}."
    return [record for record in records if (header_text(record, header) or "").startswith(prefix)]


@dataclass
class Phases:
    kafka: KafkaSettings
    payments: pd.DataFrame
    sampler: CpuSampler
    gc_watch: GcWatch
    name: str  # unique per run
    partitions: int = 3  # of every topic: bounds how many scoring processes get a share

    async def backlog(
        self, runner: Runner, count: int, timeout_s: float, profiler: cProfile.Profile | None = None
    ) -> PhaseResult:
        """Pre-produce `count` events, then let `runner` consume them from the start (a runner
        that settles first is started before, and the events produced at once into its group).

        Args:
            profiler: enabled from the runner's start until the backlog is committed.
        """
        topics = TopicSet(f"{self.name}-{runner.name}-backlog")
        await create_topics(self.kafka, topics.all(), self.partitions)
        records = PreEncoded(tagged_records(self.payments, "b", count))
        if runner.settle_before_backlog:  # its group settles first; the backlog is produced at once
            await runner.start(topics)
        try:
            sent = await paced_send(self.kafka, topics.payments, count, records, None)
            log.info("%s: %d events produced to the backlog, consuming", runner.name, sent.sent)
            runner.stages.take()
            gc.collect()
            if profiler is not None:
                profiler.enable()
            if not runner.settle_before_backlog:
                await runner.start(topics)
            done = await wait_committed(
                self.kafka, topics.group, topics.payments, count, timeout_s, partitions=self.partitions
            )
        finally:
            if profiler is not None:
                profiler.disable()
            await runner.stop()
        stages = runner.stages.take()
        outputs = await read_topic(self.kafka, topics.predictions, count, timeout_s=30.0)
        if not outputs:
            return PhaseResult(
                runner.variant, "backlog", count, 0, float("nan"), 0.0, {}, kept_up=False,
                processes=runner.processes,
            )  # fmt: skip
        start, end = window_s(outputs)
        return PhaseResult(
            runner.variant, "backlog", count, len(outputs), rate_per_s(outputs), end - start,
            self.sampler.between(start, end), kept_up=done, stages=stages, processes=runner.processes,
            gc_pauses_ms=self.gc_watch.full_collections(start, end),
            event_stages=stage_percentiles(outputs) if runner.link_header == "ce_causationid" else {},
        )  # fmt: skip

    async def warm_up(self, runner: Runner, topics: TopicSet, count: int) -> int:
        """Start `runner` on the rate topics and wait for `count` warm-up events to be done."""
        await create_topics(self.kafka, topics.all(), self.partitions)
        await runner.start(topics)
        records = PreEncoded(tagged_records(self.payments, "w", count))
        await paced_send(self.kafka, topics.payments, count, records, 200.0)
        if not await wait_committed(
            self.kafka, topics.group, topics.payments, count, 60.0, partitions=self.partitions
        ):
            log.warning("%s: warm-up events not all done within 60 s", runner.name)
        runner.stages.take()
        return count

    async def at_rate(
        self,
        runner: Runner,
        topics: TopicSet,
        tag: str,
        rate: float,
        seconds: float,
        before: int,
        kind: str = "rate",
    ) -> PhaseResult:
        """Produce at `rate` for `seconds` (from a child process) to a running `runner`.

        Args:
            before: events already on the input topic (warm-up, earlier steps).
        """
        count = max(1, round(rate * seconds))
        records = PreEncoded(tagged_records(self.payments, tag, count))
        gc.collect()  # the harness's own garbage is not collected inside the window
        sent = await paced_send_in_child(self.kafka, topics.payments, count, records, rate)
        kept_up = await wait_committed(
            self.kafka, topics.group, topics.payments, before + count, 10.0, partitions=self.partitions
        )
        stages = runner.stages.take()
        total = before + count
        inputs = _tagged(await read_topic(self.kafka, topics.payments, total, 30.0), "ce_id", tag)
        outputs = _tagged(
            await read_topic(self.kafka, topics.predictions, total, 30.0 if kept_up else 5.0),
            runner.link_header,
            tag,
        )
        if sent.errors:
            log.warning(
                "%s at %.0f/s: %d sends failed: %s", runner.name, rate, sent.errors, sent.error_samples
            )
        first_in = window_s(inputs)[0] if inputs else 0.0
        last_out = window_s(outputs)[1] if outputs else first_in
        achieved = len(outputs) / max(last_out - first_in, 1e-3)
        return PhaseResult(
            runner.variant, kind, count, len(outputs), achieved, last_out - first_in,
            self.sampler.between(first_in, last_out), target_rate=rate, processes=runner.processes,
            latency=Percentiles.of(latencies_ms(inputs, outputs, runner.link_header)),
            kept_up=kept_up and len(outputs) >= count and achieved >= KEEP_UP * rate, stages=stages,
            gc_pauses_ms=self.gc_watch.full_collections(first_in, last_out),
            event_stages=stage_percentiles(outputs) if runner.link_header == "ce_causationid" else {},
        )  # fmt: skip
