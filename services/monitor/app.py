"""The monitor process: one batch consumer on predictions, explanations and labels (and shadow
predictions, when challengers are compared with the champion).

Per micro-batch, in this order: observe the records; save the state snapshot (monitor state
plus the offsets it includes); commit the offsets (AckPolicy.MANUAL); publish the outbox
(reports, alerts, comparisons, verdicts). A crash anywhere leaves the last snapshot and offsets at or behind it:
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
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.failures import BatchFailures
from services.adapters.kafka.records import source_records
from services.adapters.kafka.subscriber import batch_subscriber
from services.adapters.lifecycle import run_until_signal
from services.adapters.telemetry import setup_metrics
from services.core.monitoring.compare_stream import Comparison, ComparisonStateMismatch
from services.core.monitoring.monitor import Monitor, StateMismatchError
from services.core.monitoring.report import ModelReference
from services.monitor.artifact import load_model_reference
from services.monitor.kafka_io import report_sink
from services.monitor.runner import MonitorRunner
from services.monitor.settings import MonitorSettings
from services.monitor.snapshot import SnapshotFile
from services.monitor.telemetry import MonitorMetrics

log = logging.getLogger("rtinfer.monitor")


class MonitorApp:
    """Owns the broker, the state snapshot, the runner (restored at start) and its ticker.

    start(): restore the runner from the snapshot, start consuming, start the ticker.
    stop(): stop the ticker, publish the outbox and save, then stop consuming.

    Args:
        broker: the Kafka broker (tests pass one under TestKafkaBroker); default from settings.
        model: the watched model; read from settings.model_dir unless given (ArtifactError).
        clock: wall clock of the monitor (idle windows).
    """

    def __init__(
        self,
        settings: MonitorSettings,
        broker: KafkaBroker | None = None,
        *,
        model: ModelReference | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.broker = broker or make_broker(settings.kafka, "monitor")
        self._model = model or load_model_reference(settings.model_dir)
        self._clock = clock
        self._metrics = MonitorMetrics(setup_metrics("rtinfer-monitor", settings.metrics_port))
        self._snapshot = SnapshotFile(settings.state_path)
        self._sink = report_sink(
            self.broker, settings.reports_topic, settings.alerts_topic, settings.reports_file
        )
        self._lock = asyncio.Lock()
        self.failures = BatchFailures(clock=clock)
        self._runner: MonitorRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._comparison_config = settings.comparison_config(self._model.name)
        topics = [settings.predictions_topic, settings.explanations_topic, settings.labels_topic]
        if self._comparison_config is not None:
            topics.append(settings.shadow_predictions_topic)
        # Records aiokafka itself cannot parse are logged and skipped (no DLQ topic here).
        self.subscriber, self.unreadable = batch_subscriber(
            self.broker,
            topics,
            self._on_records,
            self._skip_unreadable,
            group_id=settings.group_id,
            max_records=settings.max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            title="monitor-outputs",
            description="predictions, explanations, labels (and shadow predictions) in; drift reports, "
            "alerts (and comparison reports, promotion verdicts) out",
            clock=clock,
        )

    @property
    def runner(self) -> MonitorRunner:
        if self._runner is None:
            raise RuntimeError("the monitor app has not started")
        return self._runner

    async def start(self) -> None:
        self._runner = self._restore()
        await self.broker.start()
        self._ticker = asyncio.create_task(self._tick_forever())

    async def stop(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        if self._runner is not None:
            async with self._lock:
                await self._publish()
                self._save()
        await self.broker.stop()

    async def run_until_signal(self) -> None:
        """Start, consume until SIGTERM or SIGINT, then stop."""
        await run_until_signal(self.start, self.stop)

    def _restore(self) -> MonitorRunner:
        settings = self.settings
        saved = self._snapshot.load() or {}
        monitor = None
        if "monitor" in saved:
            try:
                monitor = Monitor.from_state(
                    saved["monitor"],
                    self._model,
                    settings.core_config(),
                    source=settings.source,
                    clock=self._clock,
                )
            except StateMismatchError as error:
                log.warning("starting with empty windows: %s", error)
        monitor = monitor or Monitor(
            self._model, settings.core_config(), source=settings.source, clock=self._clock
        )
        return MonitorRunner(
            monitor,
            self._sink,
            offsets=saved.get("offsets"),
            max_event_bytes=settings.max_event_bytes,
            on_report=self._metrics.record,
            comparison=self._restore_comparison(saved.get("comparison")),
            on_comparison=self._metrics.record_comparison,
        )

    def _restore_comparison(self, saved: dict[str, Any] | None) -> Comparison | None:
        config = self._comparison_config
        if config is None:
            return None
        source, clock = self.settings.source, self._clock
        if saved is not None:
            try:
                return Comparison.from_state(saved, config, source=source, clock=clock)
            except ComparisonStateMismatch as error:
                log.warning("starting the comparison empty: %s", error)
        return Comparison(config, source=source, clock=clock)

    def _save(self) -> bool:
        try:
            self._snapshot.save(self.runner.state())
        except OSError as error:
            log.error("state snapshot %s not written: %s", self.settings.state_path, error)
            return False
        return True

    async def _publish(self) -> None:
        if await self.runner.flush():
            self._save()  # the outbox is empty now; saving spares a re-publish after a restart

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_interval_s)
            async with self._lock:
                if self.runner.tick():
                    self._save()
                await self._publish()

    async def _skip_unreadable(self, topic: str, partition: int, offset: int, error_text: str) -> None:
        log.error("skipping unreadable record %s[%d]@%d: %s", topic, partition, offset, error_text)

    async def _on_records(self, message: KafkaMessage) -> None:
        async with self._lock:
            try:
                outcomes = self.runner.ingest(source_records(message.raw_message))
            except Exception as error:
                # Never commit past a batch that failed for a reason nobody foresaw; back off.
                pause_s = self.failures.failed(error)
                log.exception("batch failed; not committed, read again in %.1fs", pause_s)
                await asyncio.sleep(pause_s)
                await message.nack()
                return
            self.failures.succeeded()
            if not self._save():
                # Nothing is committed past the last snapshot; wait instead of spinning.
                await asyncio.sleep(self.settings.tick_interval_s)
                await message.nack()
                return
            try:
                await message.ack()
            except KafkaError as error:  # the records come again and are skipped: they are in the state
                log.warning("offset commit failed: %s", error)
            await self._publish()
        self._metrics.count_events(outcomes)
