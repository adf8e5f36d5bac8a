"""The service's edges without a broker: metadata.json, settings, the report file and CLI, imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtinfer.cli import main
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor
from services.monitor.__main__ import main as monitor_main
from services.monitor.artifact import ArtifactError, load_model_reference
from services.monitor.reports_file import append_reports, read_reports
from services.monitor.settings import MonitorSettings
from tests.unit.monitor.streams import T0, Drift, closing_prediction, metadata_json, model_reference, stream

pytestmark = pytest.mark.unit


def test_model_reference_is_read_from_metadata_json(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps(metadata_json()), encoding="utf-8")
    model = load_model_reference(tmp_path)
    assert (model.name, model.version) == ("fraud", "7")
    assert model.reference == model_reference().reference
    with pytest.raises(ArtifactError, match="cannot read"):
        load_model_reference(tmp_path / "nowhere")
    (tmp_path / "metadata.json").write_text('{"name": "fraud"}', encoding="utf-8")
    with pytest.raises(ArtifactError, match="version"):
        load_model_reference(tmp_path)


def test_settings_come_from_the_environment_with_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_MONITOR_WINDOW_SIZES_S", "[60, 600]")
    monkeypatch.setenv("RTINFER_MONITOR_ALERTS__FEATURE_PSI", "0.3")
    monkeypatch.setenv("RTINFER_MONITOR_REPORTS_TOPIC", "drift")
    settings = MonitorSettings()
    config = settings.core_config()
    assert config.window_sizes_s == (60, 600) and config.alerts.feature_psi == 0.3
    assert settings.reports_topic == "drift" and settings.alerts_topic == "monitoring.alerts"
    assert config.label_retention_s == 600 + 60


def test_help_lists_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        monitor_main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for name in (
        "RTINFER_MONITOR_MODEL_DIR",
        "RTINFER_MONITOR_WINDOW_SIZES_S",
        "RTINFER_MONITOR_ALERTS__DISPARITY",
    ):
        assert name in out


def test_a_missing_artifact_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor_main(["--model-dir", str(tmp_path)]) == 2
    assert "metadata.json" in capsys.readouterr().err


def test_report_command_renders_a_table_and_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monitor = Monitor(
        model_reference(), MonitorConfig(window_sizes_s=(300, 900)), source="//t", clock=lambda: T0
    )
    for event in [
        *stream(6, 400, seed=2, drift=Drift(900, amount_scale=3.0)),
        closing_prediction(6 * 300 + 2000),
    ]:
        monitor.observe(event)
    path = tmp_path / "reports.jsonl"
    append_reports(path, monitor.outbox[:4])
    append_reports(path, monitor.outbox)  # a re-published report is read once
    assert len(read_reports(path)) == 8
    out = tmp_path / "plots" / "drift.png"
    assert main(["monitor", "report", "--from-file", str(path), "--last", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "feature_psi" in printed and "amount" in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["monitor", "report", "--from-file", str(path), "--size", "60", "--out", str(out)]) == 1
