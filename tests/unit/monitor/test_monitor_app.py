"""MonitorApp on FastStream's in-memory broker: the snapshot saved per batch and at stop, and
restored at the next start (the in-memory broker gives every record offset 0)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from events import encode_kafka
from services.monitor.app import MonitorApp
from services.monitor.settings import MonitorSettings
from services.monitor.snapshot import SnapshotFile
from tests.unit.monitor.streams import T0, closing_prediction, model_reference

pytestmark = pytest.mark.unit


def _settings(unique_name: str, tmp_path: Path) -> MonitorSettings:
    return MonitorSettings(
        predictions_topic=f"{unique_name}-predictions",
        explanations_topic=f"{unique_name}-explanations",
        labels_topic=f"{unique_name}-labels",
        reports_topic=f"{unique_name}-monitoring",
        alerts_topic=f"{unique_name}-alerts",
        state_path=tmp_path / "state" / "monitor.json",
        window_sizes_s=(300,),
        tick_interval_s=0.05,
    )


async def _send_prediction(broker: KafkaBroker, topic: str) -> None:
    record = encode_kafka(closing_prediction(10.0, payment_id="pay-monitor-app"))
    headers = {name: value.decode() for name, value in record.headers}
    await broker.publish(record.value, topic, key=record.key, headers=headers)


async def test_the_snapshot_holds_what_was_consumed_and_is_restored(unique_name: str, tmp_path: Path) -> None:
    settings = _settings(unique_name, tmp_path)
    broker = KafkaBroker("in-memory:9092")
    app = MonitorApp(settings, broker, model=model_reference(), clock=lambda: T0)
    async with TestKafkaBroker(broker):
        await app.start()
        try:
            await _send_prediction(broker, settings.predictions_topic)
        finally:
            await app.stop()
    saved = SnapshotFile(settings.state_path).load()
    assert saved is not None and saved["offsets"] == {f"{settings.predictions_topic}:0": 1}

    broker = KafkaBroker("in-memory:9092")
    restarted = MonitorApp(settings, broker, model=model_reference(), clock=lambda: T0)
    async with TestKafkaBroker(broker):
        await restarted.start()
        try:
            assert restarted.runner.offsets == saved["offsets"]
            assert restarted.runner.state()["monitor"] == saved["monitor"]
        finally:
            await restarted.stop()


async def test_run_until_signal_saves_the_state_on_sigterm(
    unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(unique_name, tmp_path)
    broker = KafkaBroker("in-memory:9092")
    app = MonitorApp(settings, broker, model=model_reference(), clock=lambda: T0)
    started, start = asyncio.Event(), app.start

    async def noted_start() -> None:
        await start()
        started.set()

    monkeypatch.setattr(app, "start", noted_start)
    async with TestKafkaBroker(broker):
        running = asyncio.create_task(app.run_until_signal())
        await asyncio.wait_for(started.wait(), 10)
        await _send_prediction(broker, settings.predictions_topic)
        settings.state_path.unlink()  # written by the batch; stop() writes it again
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
    saved = SnapshotFile(settings.state_path).load()
    assert saved is not None and saved["offsets"] == {f"{settings.predictions_topic}:0": 1}
