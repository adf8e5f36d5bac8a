"""The champion/challenger comparison through the monitor service against real Kafka.

A synthetic stream where the challenger is truly better: labels and shadow predictions (each
shadow published twice, as a redelivery would) go first, then the deciding predictions on a
one-partition topic, so every run sees the same interleaving. The comparison report read back
from the monitoring topic equals the pure core's on the same events, says promote, and
`rtinfer monitor compare` renders it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from events import (
    COMPARISON_REPORT,
    LABEL,
    PREDICTION,
    PROMOTION_VERDICT,
    Decoded,
    Event,
    Verdict,
    decode_kafka,
    encode_kafka,
)
from rtinfer.cli import main
from rtinfer.producer.kafka import produce_records
from services.adapters.kafka.settings import KafkaSettings
from services.core.monitoring.compare_stream import Comparison
from services.monitor.app import MonitorApp
from services.monitor.settings import MonitorSettings
from tests.integration.kafka_helpers import create_topics, read_all, wait_caught_up
from tests.servers import KafkaEndpoint
from tests.unit.monitor.compare_streams import (
    CHALLENGER,
    SIZE_S,
    T0,
    Kind,
    closing_prediction,
    draw_inputs,
    events_of,
)
from tests.unit.monitor.streams import metadata_json

SEED = 11


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
        shadow_predictions_topic=f"{name}-predictions.shadow",
        reports_topic=f"{name}-monitoring",
        alerts_topic=f"{name}-monitoring.alerts",
        group_id=f"{name}-monitor",
        state_path=tmp_path / "state" / "monitor.json",
        window_sizes_s=(SIZE_S,),
        allowed_lateness_s=60.0,
        max_records=500,
        tick_interval_s=0.5,
        challengers=(CHALLENGER,),
    )


async def _publish(settings: MonitorSettings, topic: str, events: Sequence[Event[Any]]) -> None:
    summary = await produce_records(
        [encode_kafka(event) for event in events], kafka=settings.kafka, topic=topic
    )
    assert summary.acknowledged == len(events) and summary.errors == 0


async def test_a_better_challenger_is_promoted_through_the_service(
    kafka: KafkaEndpoint, unique_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(kafka, unique_name, tmp_path)
    bootstrap = settings.kafka.bootstrap
    await create_topics(bootstrap, settings.predictions_topic, settings.reports_topic, partitions=1)
    await create_topics(
        bootstrap, settings.shadow_predictions_topic, settings.labels_topic, settings.explanations_topic
    )
    events = [*events_of(draw_inputs(SEED, 4000, Kind.BETTER), seed=SEED), closing_prediction(SIZE_S + 120)]
    labels = [event for event in events if event.type == LABEL]
    predictions = [event for event in events if event.type == PREDICTION]
    shadows = [event for event in events if event.type not in (LABEL, PREDICTION)]

    app = MonitorApp(settings)
    await app.start()
    try:
        await _publish(settings, settings.labels_topic, labels)
        await _publish(settings, settings.shadow_predictions_topic, [*shadows, *shadows])
        for topic in (settings.labels_topic, settings.shadow_predictions_topic):
            await wait_caught_up(bootstrap, settings.group_id, topic)
        await _publish(settings, settings.predictions_topic, predictions)
        await wait_caught_up(bootstrap, settings.group_id, settings.predictions_topic)
        # The monitor's drift report, the comparison report and its verdict.
        records = await read_all(bootstrap, settings.reports_topic, expected=3, timeout_s=60)
    finally:
        await asyncio.wait_for(app.stop(), timeout=30)

    decoded = [decode_kafka(record.key, record.value, record.headers) for record in records]
    published = {d.event.type: d.event for d in decoded if isinstance(d, Decoded)}
    report, verdict = published[COMPARISON_REPORT], published[PROMOTION_VERDICT]
    assert verdict.causationid == report.id and verdict.data == report.data.verdict
    assert report.data.verdict.verdict is Verdict.PROMOTE, report.data.verdict.reasons
    assert (report.data.counts.paired, report.data.counts.duplicates) == (4000, 4000)

    config = settings.comparison_config("fraud")
    assert config is not None
    pure = Comparison(config, source=settings.source, clock=lambda: T0)
    for event in [*labels, *shadows, *shadows, *predictions]:
        pure.observe(event)
    assert [(event.id, event.data) for event in pure.outbox] == [
        (report.id, report.data),
        (verdict.id, verdict.data),
    ]

    out = tmp_path / "compare.png"
    argv = [
        "monitor",
        "compare",
        "--topic",
        settings.reports_topic,
        "--bootstrap",
        bootstrap,
        "--out",
        str(out),
    ]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own event loop
    printed = capsys.readouterr().out
    assert "plot of 1 windows" in printed and "promote" in printed
    assert out.read_bytes()[:4] == b"\x89PNG"
