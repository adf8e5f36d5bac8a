"""The monitor as a FastStream app: one batch consumer on predictions, explanations and labels.

Per micro-batch, in this order: observe the records; save the state snapshot (monitor state
plus the offsets it includes); commit the offsets (AckPolicy.MANUAL); publish the outbox
(reports, alerts). A crash anywhere leaves the last snapshot and offsets at or behind it:
records below the snapshot's offsets are skipped when read again, and reports still in the
snapshot's outbox are published again with the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.records import keep_raw, source_records
from services.adapters.telemetry import setup_metrics
from services.core.monitoring.monitor import Monitor, StateMismatchError
from services.core.monitoring.report import ModelReference
from services.monitor.artifact import load_model_reference
from services.monitor.kafka_io import report_sink
from services.monitor.runner import MonitorRunner
from services.monitor.settings import MonitorSettings
from services.monitor.snapshot import SnapshotFile
from services.monitor.telemetry import MonitorMetrics

log = logging.getLogger("rtinfer.monitor")


def build_app(
    settings: MonitorSettings,
    broker: KafkaBroker | None = None,
    *,
    model: ModelReference | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[FastStream, KafkaBroker]:
    """The app and its broker; the model reference is read from settings.model_dir unless given."""
    broker = broker or make_broker(settings.kafka, "monitor")
    model = model or load_model_reference(settings.model_dir)
    metrics = MonitorMetrics(setup_metrics("rtinfer-monitor", settings.metrics_port))
    snapshot = SnapshotFile(settings.state_path)
    sink = report_sink(broker, settings.reports_topic, settings.alerts_topic, settings.reports_file)
    lock = asyncio.Lock()
    parts: dict[str, Any] = {}

    def restore() -> MonitorRunner:
        saved = snapshot.load() or {}
        monitor = None
        if "monitor" in saved:
            try:
                monitor = Monitor.from_state(
                    saved["monitor"], model, settings.core_config(), source=settings.source, clock=clock
                )
            except StateMismatchError as error:
                log.warning("starting with empty windows: %s", error)
        monitor = monitor or Monitor(model, settings.core_config(), source=settings.source, clock=clock)
        return MonitorRunner(
            monitor,
            sink,
            offsets=saved.get("offsets"),
            max_event_bytes=settings.max_event_bytes,
            on_report=metrics.record,
        )

    def save() -> bool:
        try:
            snapshot.save(parts["runner"].state())
        except OSError as error:
            log.error("state snapshot %s not written: %s", settings.state_path, error)
            return False
        return True

    async def publish() -> None:
        if await parts["runner"].flush():
            save()  # the outbox is empty now; saving spares a re-publish after a restart

    async def tick_forever() -> None:
        while True:
            await asyncio.sleep(settings.tick_interval_s)
            async with lock:
                if parts["runner"].tick():
                    save()
                await publish()

    async def start() -> None:
        parts["runner"] = restore()

    async def started() -> None:
        parts["ticker"] = asyncio.create_task(tick_forever())

    async def stopping() -> None:
        ticker = parts.pop("ticker", None)
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        async with lock:
            await publish()
            save()

    topics = (settings.predictions_topic, settings.explanations_topic, settings.labels_topic)

    @broker.subscriber(
        *topics,
        batch=True,
        group_id=settings.group_id,
        max_records=settings.max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=keep_raw,
        title="monitor-outputs",
        description="predictions, explanations and labels in; drift reports and alerts out",
    )
    async def on_records(message: KafkaMessage) -> None:
        async with lock:
            runner: MonitorRunner = parts["runner"]
            outcomes = runner.ingest(source_records(message.raw_message))
            if not save():
                # Nothing is committed past the last snapshot; wait instead of spinning.
                await asyncio.sleep(settings.tick_interval_s)
                await message.nack()
                return
            try:
                await message.ack()
            except KafkaError as error:  # the records come again and are skipped: they are in the state
                log.warning("offset commit failed: %s", error)
            await publish()
        metrics.count_events(outcomes)

    app = FastStream(broker, on_startup=[start], after_startup=[started], on_shutdown=[stopping])
    return app, broker
