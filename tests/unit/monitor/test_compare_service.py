"""The comparison in the monitor service: settings, the runner (records in, reports out, state),
the app on the in-memory broker, the verdict gauge, `rtinfer monitor compare`, the contracts."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from events import (
    COMPARISON_REPORT,
    PROMOTION_VERDICT,
    Decoded,
    Event,
    ModelComparison,
    Verdict,
    decode_kafka,
    encode_kafka,
)
from events.schemas import schema_path
from rtinfer.cli import main
from services.adapters.kafka.records import SourceRecord
from services.core.monitoring.compare_stream import Comparison
from services.core.monitoring.config import ComparisonConfig, MonitorConfig
from services.core.monitoring.monitor import Monitor
from services.monitor.app import MonitorApp
from services.monitor.reports_file import append_reports, read_comparisons, read_reports
from services.monitor.runner import MonitorRunner
from services.monitor.settings import MonitorSettings
from services.monitor.snapshot import SnapshotFile
from services.monitor.telemetry import MonitorMetrics
from tests.unit.monitor.compare_streams import (
    CHALLENGER,
    CHAMPION,
    SIZE_S,
    T0,
    Kind,
    closing_prediction,
    draw_inputs,
    events_of,
)
from tests.unit.monitor.streams import model_reference

pytestmark = pytest.mark.unit

CONFIG = ComparisonConfig(
    champion=CHAMPION, challengers=(CHALLENGER,), window_sizes_s=(SIZE_S,), resamples=200
)


def _compared(windows: int = 1, count: int = 2500, kind: Kind = Kind.BETTER) -> Comparison:
    comparison = Comparison(CONFIG, source="//tests/monitor", clock=lambda: T0)
    for window in range(windows):
        inputs = draw_inputs(window, count, kind)
        for event in events_of(inputs, seed=window, start_s=window * SIZE_S):
            comparison.observe(event)
    comparison.observe(closing_prediction(windows * SIZE_S + 120))
    return comparison


def test_the_comparison_is_off_unless_challengers_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MonitorSettings().comparison_config(CHAMPION) is None
    monkeypatch.setenv("RTINFER_MONITOR_CHALLENGERS", f'["{CHALLENGER}"]')
    monkeypatch.setenv("RTINFER_MONITOR_PROMOTION__MIN_FRAUDS", "50")
    monkeypatch.setenv("RTINFER_MONITOR_WINDOW_SIZES_S", "[600]")
    monkeypatch.setenv("RTINFER_MONITOR_PERFORMANCE_DELAY_S", "86400")
    settings = MonitorSettings()
    config = settings.comparison_config(CHAMPION)
    assert config is not None and settings.shadow_predictions_topic == "predictions.shadow"
    assert (config.champion, config.challengers, config.window_sizes_s) == (CHAMPION, (CHALLENGER,), (600,))
    assert (config.evaluation_delay_s, config.rule.min_frauds, config.resamples) == (86400, 50, 1000)
    monkeypatch.setenv("RTINFER_MONITOR_CHAMPION", "fraud-main")
    monkeypatch.setenv("RTINFER_MONITOR_COMPARISON_DELAY_S", "0")
    named = MonitorSettings().comparison_config(CHAMPION)
    assert named is not None and (named.champion, named.evaluation_delay_s) == ("fraud-main", 0)


def _records(events: list[Event[Any]], topic: str) -> list[SourceRecord]:
    encoded = [encode_kafka(event) for event in events]
    return [
        SourceRecord(topic, 0, offset, record.key, record.value, record.headers)
        for offset, record in enumerate(encoded)
    ]


async def test_the_runner_feeds_both_and_publishes_both_outboxes() -> None:
    inputs = draw_inputs(1, 600, Kind.BETTER)
    events = [*events_of(inputs, seed=1), closing_prediction(SIZE_S + 120)]
    published: list[Event[Any]] = []
    compared: list[ModelComparison] = []

    async def sink(batch: Any) -> None:
        published.extend(batch)

    monitor = Monitor(
        model_reference(), MonitorConfig(window_sizes_s=(SIZE_S,)), source="//m", clock=lambda: T0
    )
    comparison = Comparison(CONFIG, source="//m", clock=lambda: T0)
    runner = MonitorRunner(monitor, sink, comparison=comparison, on_comparison=compared.append)
    outcomes = runner.ingest(_records(events, "everything"))
    assert outcomes["compare_scored"] == 2 * 600 + 1 and outcomes["compare_label_joined"] == 600
    assert outcomes["ignored"] == 600  # the monitor does not read shadow predictions
    assert runner.ingest(_records(events[:10], "everything"))["skipped"] == 10
    assert "comparison" in runner.state() and runner.state()["comparison"]["outbox"]
    assert await runner.flush() == len(published) > 0
    types = [event.type for event in published]
    assert types.count(COMPARISON_REPORT) == types.count(PROMOTION_VERDICT) == 1
    assert comparison.outbox == [] and monitor.outbox == []
    assert [report.challenger_name for report in compared] == [CHALLENGER]


async def test_the_app_reads_shadow_predictions_and_publishes_comparisons(
    unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports_file = tmp_path / "reports.jsonl"
    settings = MonitorSettings(
        predictions_topic=f"{unique_name}-predictions",
        explanations_topic=f"{unique_name}-explanations",
        labels_topic=f"{unique_name}-labels",
        shadow_predictions_topic=f"{unique_name}-shadow",
        reports_topic=f"{unique_name}-monitoring",
        alerts_topic=f"{unique_name}-alerts",
        state_path=tmp_path / "state.json",
        reports_file=reports_file,
        window_sizes_s=(SIZE_S,),
        idle_close_s=60.0,
        tick_interval_s=0.05,
        challengers=(CHALLENGER,),
        bootstrap_resamples=50,
    )
    now = [T0]
    broker = KafkaBroker("in-memory:9092")
    app = MonitorApp(settings, broker, model=model_reference(), clock=lambda: now[0])
    published = asyncio.Event()
    monkeypatch.setattr(app._metrics, "record_comparison", lambda report: published.set())
    # The in-memory broker gives every record offset 0: one input, one record per topic.
    prediction, shadow, label = events_of(draw_inputs(3, 1, Kind.BETTER), seed=3)
    async with TestKafkaBroker(broker):
        await app.start()
        try:
            for event, topic in (
                (prediction, settings.predictions_topic),
                (shadow, settings.shadow_predictions_topic),
                (label, settings.labels_topic),
            ):
                record = encode_kafka(event)
                headers = {name: value.decode() for name, value in record.headers}
                await broker.publish(record.value, topic, key=record.key, headers=headers)
            now[0] = T0 + timedelta(seconds=2 * SIZE_S)  # idle: event time follows the clock
            await asyncio.wait_for(published.wait(), 10)  # after the sink wrote the reports file
        finally:
            await app.stop()
    reports = read_comparisons(reports_file)
    assert [(r.data.counts.paired, r.data.counts.labeled) for r in reports] == [(1, 1)]
    assert reports[0].data.verdict.verdict is Verdict.NOT_ENOUGH_EVIDENCE
    assert len(read_reports(reports_file)) == 1  # the monitor's drift report beside it
    saved = SnapshotFile(settings.state_path).load()
    assert saved is not None and saved["comparison"]["challengers"] == [CHALLENGER]
    assert saved["offsets"][f"{settings.shadow_predictions_topic}:0"] == 1


def test_the_verdict_gauge_is_one_for_the_verdict_and_zero_for_the_others() -> None:
    reader = InMemoryMetricReader()
    metrics = MonitorMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    report = _compared().outbox[0].data
    metrics.record_comparison(report)
    data: Any = reader.get_metrics_data()
    found: dict[str, Any] = {
        metric.name: metric.data.data_points
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    verdicts = {
        point.attributes["rtinfer.verdict"]: point.value
        for point in found["rtinfer.monitor.promotion_verdict"]
    }
    assert verdicts == {"promote": 1.0, "keep": 0.0, "not_enough_evidence": 0.0}
    point = found["rtinfer.monitor.promotion_verdict"][0]
    assert point.attributes["rtinfer.challenger.name"] == CHALLENGER
    differences = {
        p.attributes["rtinfer.metric"]: p.value for p in found["rtinfer.monitor.comparison_difference"]
    }
    assert differences["recall_at_budget"] == report.recall_at_budget.difference


def test_compare_command_renders_a_table_the_verdict_and_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    comparison = _compared(windows=3)
    path = tmp_path / "reports.jsonl"
    append_reports(path, comparison.outbox[:2])
    append_reports(path, comparison.outbox)  # a re-published report is read once
    assert len(read_comparisons(path)) == 3
    out = tmp_path / "plots" / "compare.png"
    argv = ["monitor", "compare", "--from-file", str(path), "--last", "2", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "champion vs challenger" in printed and "promote" in printed
    assert "verdict for fraud-next 8 vs fraud 7" in printed and "pass: " in printed
    assert "plot of 2 windows" in printed
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["monitor", "compare", "--from-file", str(path), "--challenger", "nobody"]) == 1
    assert main(["monitor", "compare", "--from-file", str(path), "--last", "0"]) == 2
    assert main(["monitor", "compare", "--from-file", str(tmp_path / "missing.jsonl")]) == 2


def test_comparison_events_match_their_schemas_and_survive_the_kafka_binding() -> None:
    report_event, verdict_event = _compared(count=800).outbox
    for event in (report_event, verdict_event):
        schema = json.loads(schema_path(event.type).read_text())
        jsonschema.validate(event.data.model_dump(mode="json"), schema)
        record = encode_kafka(event)
        decoded = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(decoded, Decoded) and decoded.event.data == event.data
    report = report_event.data
    with pytest.raises(ValueError, match=r"verdict\.window"):
        ModelComparison(**{**dict(report), "challenger_name": "someone-else"})
