"""Running the features benchmark: Feast online read latency, writer throughput and lag."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from rich.console import Console
from rich.table import Table

from benchmarks.cpu import CpuSampler, stack_pids
from benchmarks.environment import generated_payments, materialized_store
from benchmarks.features_online import OnlineTiming, time_online_reads
from benchmarks.features_writer import (
    LivePayments,
    RecordingPusher,
    RunningWriter,
    delete_state,
    event_lags_s,
)
from benchmarks.kafka_io import (
    OutRecord,
    PreEncoded,
    create_topics,
    delete_topics_with_prefix,
    paced_send,
    paced_send_in_child,
    read_topic,
    wait_committed,
)
from benchmarks.latency import Percentiles, header_text
from benchmarks.phases import tagged_records
from benchmarks.runners import quiet_faststream
from services.adapters.feast.settings import FeastSettings
from services.adapters.feast.store import FeastOnlineFeatures, FeastPusher
from services.adapters.kafka.settings import KafkaSettings
from services.core.errors import DependencyError
from services.features.settings import FeatureWriterSettings
from services.fraud.feast_repo import CARD_ROLLING_PUSH

log = logging.getLogger("rtinfer.bench")


@dataclass(frozen=True)
class WriterThroughput:
    events: int
    pushes: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


@dataclass(frozen=True)
class WriterLag:
    rate: float
    events: int
    achieved: float
    pushes: int
    lag_ms: Percentiles
    unseen: int
    online_check: tuple[int, int]  # cards whose online row shows their last event, cards checked


@dataclass
class Context:
    kafka: KafkaSettings
    feast: FeastSettings
    store: FeatureStore
    payments: pd.DataFrame
    name: str
    args: argparse.Namespace
    sampler: CpuSampler

    def writer_settings(self, phase: str) -> FeatureWriterSettings:
        prefix = f"{self.name}-{phase}"
        return FeatureWriterSettings(
            kafka=self.kafka,
            feast=self.feast,
            state_redis_url=self.feast.redis_url,
            state_prefix=prefix,
            payments_topic=f"{prefix}-payments",
            dlq_topic=f"{prefix}-dlq",
            group_id=f"{prefix}-writer",
            max_records=self.args.max_records,
            batch_timeout_ms=self.args.batch_timeout_ms,
        )


def run_features_bench(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    warnings.filterwarnings("ignore", category=ResourceWarning)  # SDK clients closed at exit
    quiet_faststream()
    console = Console() if Console().is_terminal else Console(width=160)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    name = f"benchf{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="rtinfer-bench-features-") as scratch:
            online, throughput, lag = _in_scratch(Path(scratch), args, name, sizes)
    except (DependencyError, ConnectionError, OSError) as error:
        console.print(
            f"[red]error[/]: {error} (is the stack up? `rtinfer stack up`, then `rtinfer stack env`)"
        )
        return 1
    console.print(f"[bold]features[/]: run took {time.monotonic() - started:.0f} s")
    _print(console, online, throughput, lag, args)
    return 0


def _in_scratch(
    work: Path, args: argparse.Namespace, name: str, sizes: list[int]
) -> tuple[list[OnlineTiming], WriterThroughput, WriterLag]:
    kafka, redis_url = KafkaSettings(), FeastSettings().redis_url
    payments = generated_payments()
    settings = {
        kind: FeastSettings(online_store=kind, redis_url=redis_url, project=name,
                            repo_dir=work / kind, data_dir=work / "features")
        for kind in ("sqlite", "redis")
    }  # fmt: skip
    log.info("materializing %d payments' features to sqlite and redis", len(payments))
    stores: dict[str, FeatureStore] = {}
    sampler = CpuSampler(stack_pids())
    try:
        for kind, feast in settings.items():
            stores[kind] = materialized_store(payments, feast)
        context = Context(kafka, settings["redis"], stores["redis"], payments, name, args, sampler)
        sampler.start()
        return asyncio.run(_measure(context, stores, sizes))
    finally:
        sampler.stop()
        for store in stores.values():
            store.teardown()


async def _measure(
    context: Context, stores: dict[str, FeatureStore], sizes: list[int]
) -> tuple[list[OnlineTiming], WriterThroughput, WriterLag]:
    args = context.args
    readers = {
        kind: FeastOnlineFeatures(store, context.feast.feature_service) for kind, store in stores.items()
    }
    if "redis" in stores:  # the direct read beside Feast's own online API, same store
        readers["redis, get_online_features"] = FeastOnlineFeatures(
            stores["redis"], context.feast.feature_service, direct=False
        )
    online = await time_online_reads(readers, context.payments, sizes, args.rounds, args.budget_s)
    pusher = RecordingPusher(FeastPusher(context.store, CARD_ROLLING_PUSH))
    try:
        throughput = await _backlog(context, pusher)
        lag = await _lag(context, pusher)
    finally:
        await delete_topics_with_prefix(context.kafka, context.name)
        await delete_state(context.feast.redis_url, context.name)
    return online, throughput, lag


async def _backlog(context: Context, pusher: RecordingPusher) -> WriterThroughput:
    settings = context.writer_settings("backlog")
    count = context.args.events
    await create_topics(context.kafka, [settings.payments_topic, settings.dlq_topic])
    records = PreEncoded(tagged_records(context.payments, "b", count))
    await paced_send(context.kafka, settings.payments_topic, count, records, None)
    log.info("writer: %d events in the backlog, consuming", count)
    async with RunningWriter(settings, pusher):
        await wait_committed(context.kafka, settings.group_id, settings.payments_topic, count, 300.0)
    pushes = pusher.take()
    first, last = min(p.started_s for p in pushes), max(p.ended_s for p in pushes)
    return WriterThroughput(count, len(pushes), last - first, context.sampler.between(first, last))


async def _lag(context: Context, pusher: RecordingPusher) -> WriterLag:
    args, settings = context.args, context.writer_settings("lag")
    await create_topics(context.kafka, [settings.payments_topic, settings.dlq_topic])
    live = LivePayments.of(context.payments, "l")
    count = max(1, round(args.rate * args.seconds))
    async with RunningWriter(settings, pusher):
        warm = LivePayments.of(context.payments, "w")
        await paced_send(context.kafka, settings.payments_topic, 20, warm, 100.0)
        await wait_committed(context.kafka, settings.group_id, settings.payments_topic, 20, 60.0)
        pusher.take()
        sent = await paced_send_in_child(context.kafka, settings.payments_topic, count, live, args.rate)
        await wait_committed(context.kafka, settings.group_id, settings.payments_topic, 20 + count, 60.0)
    pushes = pusher.take()
    inputs = [
        record
        for record in await read_topic(context.kafka, settings.payments_topic, 20 + count, 30.0)
        if (header_text(record, "ce_id") or "").startswith("l.")
    ]
    lags, unseen = event_lags_s(inputs, pushes)
    achieved = len(inputs) / sent.seconds if sent.seconds else float("nan")
    check = await _online_check(context, inputs)
    return WriterLag(
        args.rate, count, achieved, len(pushes), Percentiles.of(lag * 1000.0 for lag in lags), unseen, check
    )


async def _online_check(context: Context, inputs: list[OutRecord]) -> tuple[int, int]:
    """Read the online store directly: does each card's row show its last produced event?"""
    last: dict[str, tuple[float, str]] = {}
    for record in inputs:
        payment = json.loads(record.value)
        stamp = pd.Timestamp(payment["timestamp"]).timestamp()
        if stamp > last.get(payment["card_id"], (0.0, ""))[0]:
            last[payment["card_id"]] = (stamp, payment["merchant_id"])
    cards = sorted(last)[:200]
    reader = FeastOnlineFeatures(context.store, context.feast.feature_service)
    rows = await reader.read([{"card_id": card, "merchant_id": last[card][1]} for card in cards])
    shown = sum(
        1
        for card, row in zip(cards, rows, strict=True)
        if (value := row["card_last_payment_ts"].value) is not None and abs(value - last[card][0]) < 1e-3
    )
    return shown, len(cards)


def _print(
    console: Console,
    online: list[OnlineTiming],
    throughput: WriterThroughput,
    lag: WriterLag,
    args: argparse.Namespace,
) -> None:
    table = Table(
        title="Feast online read, FeastOnlineFeatures.read (one call per request)", title_justify="left"
    )
    for column in (
        "store",
        "entities",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "rows/s at p50",
        "sqlite p50 / p50",
    ):
        table.add_column(column, justify="left" if column == "store" else "right")
    by_key = {(timing.store, timing.entities): timing for timing in online}
    for timing in online:
        sqlite = by_key[("sqlite", timing.entities)].latency.p50
        table.add_row(
            timing.store, str(timing.entities), str(timing.latency.count), f"{timing.latency.p50:.2f}",
            f"{timing.latency.p95:.2f}", f"{timing.latency.p99:.2f}", f"{timing.rows_per_s:,.0f}",
            f"{sqlite / timing.latency.p50:.2f}×",
        )  # fmt: skip
    console.print(table)
    table = Table(title=f"feature writer, backlog of {throughput.events} events "
                  f"(micro-batch ≤ {args.max_records} / {args.batch_timeout_ms} ms)", title_justify="left")  # fmt: skip
    processes = list(throughput.cpu)
    for column in ("events/s", "pushes", "seconds", *(f"CPU s {name}" for name in processes), "CPU ms/event"):
        table.add_column(column, justify="right")
    cpu = [f"{throughput.cpu[name]:.2f}" for name in processes]
    per_event = sum(throughput.cpu.values()) * 1000.0 / throughput.events
    table.add_row(f"{throughput.rate:,.0f}", str(throughput.pushes), f"{throughput.seconds:.2f}", *cpu,
                  f"{per_event:.2f}")  # fmt: skip
    console.print(table)
    table = Table(title=f"feature lag, event time -> visible online, at {lag.rate:.0f} events/s "
                  f"for {args.seconds:.0f} s", title_justify="left")  # fmt: skip
    for column in (
        "events",
        "achieved/s",
        "pushes",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "unseen",
        "online check",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(lag.events), f"{lag.achieved:,.0f}", str(lag.pushes), f"{lag.lag_ms.p50:.0f}", f"{lag.lag_ms.p95:.0f}",
        f"{lag.lag_ms.p99:.0f}", f"{lag.lag_ms.max:.0f}", str(lag.unseen),
        f"{lag.online_check[0]}/{lag.online_check[1]} cards",
    )  # fmt: skip
    console.print(table)
