"""The monitor service against real Kafka.

Synthetic prediction, explanation and label events go to the test's own topics; the monitor
app runs in-process; drift reports are read back from the monitoring topic. Labels and
explanations are published (and consumed) before the predictions, so every run sees the same
interleaving and reports can be compared exactly. The predictions topic has one partition:
the watermark follows its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from events import DRIFT_ALERT, EXPLANATION, LABEL, PREDICTION, Decoded, Event, decode_kafka, encode_kafka
from events.drift import DriftReport
from rtinfer.cli import main
from rtinfer.producer.kafka import produce_records
from services.adapters.kafka.settings import KafkaSettings
from services.core.monitoring.config import AlertThresholds
from services.monitor.app import MonitorApp
from services.monitor.reports_file import read_reports
from services.monitor.settings import MonitorSettings
from tests.integration.kafka_helpers import create_topics, read_all, wait_caught_up
from tests.servers import KafkaEndpoint
from tests.unit.monitor.streams import Drift, closing_prediction, metadata_json, stream

SIZE_S = 300
WINDOWS = 4
PER_WINDOW = 600
DRIFT = Drift(start_s=2 * SIZE_S, amount_scale=2.5)  # windows 2 and 3 drifted


def _settings(kafka: KafkaEndpoint, name: str, tmp_path: Path) -> MonitorSettings:
    model_dir = tmp_path / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "metadata.json").write_text(json.dumps(metadata_json()), encoding="utf-8")
    return MonitorSettings(
        kafka=KafkaSettings(bootstrap=kafka.bootstrap),
        model_dir=model_dir,
        predictions_topic=f"{name}-predictions",
        explanations_topic=f"{name}-explanations",
        labels_topic=f"{name}-labels",
        reports_topic=f"{name}-monitoring",
        alerts_topic=f"{name}-monitoring.alerts",
        group_id=f"{name}-monitor",
        state_path=tmp_path / "state" / "monitor.json",
        reports_file=tmp_path / "reports.jsonl",
        window_sizes_s=(SIZE_S,),
        allowed_lateness_s=30.0,
        max_records=200,
        tick_interval_s=0.5,
        # Few events per segment value here: bias is checked in the unit tests.
        alerts=AlertThresholds(disparity=0.01),
    )


@contextlib.asynccontextmanager
async def running_monitor(settings: MonitorSettings) -> AsyncIterator[None]:
    app = MonitorApp(settings)
    await app.start()
    try:
        yield
    finally:
        await asyncio.wait_for(app.stop(), timeout=30)


async def _publish(settings: MonitorSettings, topic: str, events: Sequence[Event[Any]]) -> None:
    summary = await produce_records(
        [encode_kafka(event) for event in events], kafka=settings.kafka, topic=topic
    )
    assert summary.acknowledged == len(events) and summary.errors == 0


async def _prepare(settings: MonitorSettings) -> tuple[list[Event[Any]], list[Event[Any]]]:
    """Create the topics; publish labels and explanations. Returns (predictions, everything)."""
    bootstrap = settings.kafka.bootstrap
    await create_topics(bootstrap, settings.predictions_topic, settings.reports_topic, partitions=1)
    await create_topics(bootstrap, settings.explanations_topic, settings.labels_topic, settings.alerts_topic)
    events = [*stream(WINDOWS, PER_WINDOW, seed=17, drift=DRIFT), closing_prediction(WINDOWS * SIZE_S + 600)]
    await _publish(settings, settings.labels_topic, [e for e in events if e.type == LABEL])
    await _publish(settings, settings.explanations_topic, [e for e in events if e.type == EXPLANATION])
    return [e for e in events if e.type == PREDICTION], events


async def _caught_up(settings: MonitorSettings, *topics: str) -> None:
    for topic in topics:
        await wait_caught_up(settings.kafka.bootstrap, settings.group_id, topic)


async def _reports(settings: MonitorSettings, expected: int) -> list[Event[DriftReport]]:
    records = await read_all(
        settings.kafka.bootstrap, settings.reports_topic, expected=expected, timeout_s=30
    )
    decoded = [decode_kafka(r.key, r.value, r.headers) for r in records]
    assert all(isinstance(d, Decoded) for d in decoded)
    return sorted((d.event for d in decoded if isinstance(d, Decoded)), key=lambda e: e.data.window.start)


async def test_drifted_feature_is_flagged_and_counts_match(
    kafka: KafkaEndpoint, unique_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(kafka, unique_name, tmp_path)
    predictions, events = await _prepare(settings)
    async with running_monitor(settings):
        await _caught_up(settings, settings.labels_topic, settings.explanations_topic)
        await _publish(settings, settings.predictions_topic, predictions)
        await _caught_up(settings, settings.predictions_topic)
        reports = await _reports(settings, expected=WINDOWS)

    assert len(reports) == WINDOWS
    expected = _expected_counts(events)
    for index, event in enumerate(reports):
        report = event.data
        start = pd.Timestamp(report.window.start)
        assert (report.counts.predictions, report.counts.explanations) == expected[start]
        assert report.performance.labeled == report.counts.predictions  # every label was known
        psi_alerts = {alert.feature for alert in report.alerts if alert.metric == "feature_psi"}
        assert psi_alerts == ({"amount"} if index >= 2 else set())
    alerts = await read_all(settings.kafka.bootstrap, settings.alerts_topic, expected=2, timeout_s=30)
    decoded = [decode_kafka(r.key, r.value, r.headers) for r in alerts]
    flagged = [
        d.event.data.feature for d in decoded if isinstance(d, Decoded) and d.event.type == DRIFT_ALERT
    ]
    assert flagged == ["amount", "amount"]
    assert [e.id for e in read_reports(settings.reports_file)] == [e.id for e in reports]  # type: ignore[arg-type]

    out = tmp_path / "report.png"
    argv = [
        "monitor",
        "report",
        "--topic",
        settings.reports_topic,
        "--bootstrap",
        kafka.bootstrap,
        "--out",
        str(out),
    ]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own event loop
    assert f"plot of {WINDOWS} windows" in capsys.readouterr().out
    assert out.read_bytes()[:4] == b"\x89PNG"


async def test_restart_mid_stream_gives_the_same_reports(
    kafka: KafkaEndpoint, unique_name: str, tmp_path: Path
) -> None:
    straight = _settings(kafka, f"{unique_name}-a", tmp_path / "a")
    predictions, _events = await _prepare(straight)
    async with running_monitor(straight):
        await _caught_up(straight, straight.labels_topic, straight.explanations_topic)
        await _publish(straight, straight.predictions_topic, predictions)
        await _caught_up(straight, straight.predictions_topic)
        expected = await _reports(straight, expected=WINDOWS)

    restarted = _settings(kafka, f"{unique_name}-b", tmp_path / "b")
    predictions, _events = await _prepare(restarted)
    cut = int(len(predictions) * 0.55)  # the middle of window 2
    async with running_monitor(restarted):
        await _caught_up(restarted, restarted.labels_topic, restarted.explanations_topic)
        await _publish(restarted, restarted.predictions_topic, predictions[:cut])
        await _caught_up(restarted, restarted.predictions_topic)
    assert restarted.state_path.exists()
    async with running_monitor(restarted):
        await _publish(restarted, restarted.predictions_topic, predictions[cut:])
        await _caught_up(restarted, restarted.predictions_topic)
        actual = await _reports(restarted, expected=WINDOWS)

    assert len(actual) == WINDOWS
    assert [(e.id, e.data) for e in actual] == [(e.id, e.data) for e in expected]


def _expected_counts(events: Sequence[Event[Any]]) -> dict[pd.Timestamp, tuple[int, int]]:
    frame = pd.DataFrame(
        [{"type": e.type, "window": pd.Timestamp(e.time).floor(f"{SIZE_S}s")} for e in events]
    )
    counts = frame.groupby(["window", "type"]).size().unstack(fill_value=0)
    return {
        window: (int(row.get(PREDICTION, 0)), int(row.get(EXPLANATION, 0)))
        for window, row in counts.iterrows()
    }
