"""The monitor's Kafka edge: neutral records in, report events out, the latest reports read back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from events import COMPARISON_REPORT, DRIFT_ALERT, DRIFT_REPORT, PROMOTION_VERDICT, Event
from events.comparison import ModelComparison
from events.drift import DriftReport
from services.adapters.kafka.publish import publish_events
from services.adapters.kafka.records import as_bytes
from services.adapters.kafka.settings import KafkaSettings
from services.core.errors import DependencyUnavailable
from services.monitor.reports_file import append_reports, decode_comparisons, decode_reports
from services.monitor.runner import ReportSink

_REPORTS_TOPIC_TYPES = frozenset({DRIFT_REPORT, COMPARISON_REPORT, PROMOTION_VERDICT})


def report_sink(
    broker: KafkaBroker, reports_topic: str, alerts_topic: str, reports_file: Path | None
) -> ReportSink:
    """Publish reports (drift and comparison reports, promotion verdicts) and alerts to their
    topics (waiting for the acks), then append the reports to `reports_file`; broker failures
    become DependencyUnavailable."""

    async def sink(events: Sequence[Event[Any]]) -> None:
        reports = [event for event in events if event.type in _REPORTS_TOPIC_TYPES]
        alerts = [event for event in events if event.type == DRIFT_ALERT]
        try:
            await publish_events(broker, reports_topic, reports)
            await publish_events(broker, alerts_topic, alerts)
        except (KafkaError, TimeoutError, OSError) as error:
            raise DependencyUnavailable("kafka", f"publishing reports failed: {error!r}") from error
        if reports_file is not None:
            append_reports(reports_file, reports)

    return sink


async def read_latest_reports(
    kafka: KafkaSettings, topic: str, per_partition: int, timeout_s: float = 30.0
) -> list[Event[DriftReport]]:
    """The drift reports among the last `per_partition` records of each partition of `topic`."""
    try:
        return decode_reports(await _read_tail(kafka, topic, per_partition, timeout_s))
    except KafkaError as error:
        raise DependencyUnavailable("kafka", f"reading {topic} failed: {error!r}") from error


async def read_latest_comparisons(
    kafka: KafkaSettings, topic: str, per_partition: int, timeout_s: float = 30.0
) -> list[Event[ModelComparison]]:
    """The comparison reports among the last `per_partition` records of each partition of `topic`."""
    try:
        return decode_comparisons(await _read_tail(kafka, topic, per_partition, timeout_s))
    except KafkaError as error:
        raise DependencyUnavailable("kafka", f"reading {topic} failed: {error!r}") from error


async def _read_tail(
    kafka: KafkaSettings, topic: str, per_partition: int, timeout_s: float
) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    partitions = await _partitions(kafka, topic)
    records: list[tuple[bytes, list[tuple[str, bytes]]]] = []
    if not partitions:
        return records
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        begins = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        for partition in partitions:
            consumer.seek(partition, max(begins[partition], ends[partition] - per_partition))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not await _at_end(consumer, ends):
            batches = await consumer.getmany(timeout_ms=500)
            records.extend(
                (as_bytes(record.value) or b"", [(name, bytes(value)) for name, value in record.headers])
                for batch in batches.values()
                for record in batch
            )
    finally:
        await consumer.stop()
    return records


async def _partitions(kafka: KafkaSettings, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    try:
        descriptions = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [
        TopicPartition(topic, int(partition["partition"]))
        for description in descriptions
        if not description.get("error_code")
        for partition in description.get("partitions", ())
    ]


async def _at_end(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True
