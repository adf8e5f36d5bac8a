"""The pipeline plot: lines built from phase results, figures JSON written beside the PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.latency import Percentiles
from benchmarks.phases import PhaseResult
from benchmarks.pipeline_plot import RatePoint, plot_figures, read_figures, write_figures

pytestmark = pytest.mark.unit


def _at_rate(
    variant: str, kind: str, rate: float, achieved: float, p99: float, **extra: object
) -> PhaseResult:
    latency = Percentiles(100, p99 / 2, p99 * 0.9, p99, p99 * 1.2)
    return PhaseResult(
        variant,
        kind,
        100,
        100,
        achieved,
        1.0,
        {},
        target_rate=rate,
        latency=latency,
        **extra,  # type: ignore[arg-type]
    )


def _results() -> list[PhaseResult]:
    return [
        PhaseResult("echo", "backlog", 1000, 1000, 25_000.0, 0.04, {}),
        PhaseResult("rtinfer", "backlog", 1000, 1000, 1_200.0, 0.8, {}, processes=2),
        PhaseResult("rtinfer", "backlog", 1000, 0, float("nan"), 0.0, {}, kept_up=False, processes=1),
        _at_rate("echo", "step", 250.0, 249.0, 6.0),
        _at_rate("echo", "rate", 50.0, 50.0, 5.0),
        _at_rate("rtinfer", "rate", 50.0, 50.0, 20.0, processes=2),
        _at_rate("rtinfer", "step", 1000.0, 700.0, 1500.0, kept_up=False, processes=2),
        _at_rate("rtinfer", "step", 250.0, 250.0, 40.0, processes=2),
    ]


def test_one_line_per_variant_and_process_count_points_by_offered_rate() -> None:
    figures = plot_figures(_results(), "a run")

    lines = {line.label: line for line in figures.lines}
    assert list(lines) == ["echo", "rtinfer, 2 processes", "rtinfer, 1 process"]
    echo, two, one = lines.values()
    assert echo.backlog_rate == 25_000.0
    assert [point.offered for point in echo.points] == [50.0, 250.0]
    assert two.points == [
        RatePoint(offered=50.0, achieved=50.0, p99_ms=20.0, kept_up=True),
        RatePoint(offered=250.0, achieved=250.0, p99_ms=40.0, kept_up=True),
        RatePoint(offered=1000.0, achieved=700.0, p99_ms=1500.0, kept_up=False),
    ]
    assert (two.variant, two.processes) == ("rtinfer", 2)
    assert one.backlog_rate is None  # nothing came out: no number to annotate
    assert one.points == []


def test_a_rate_with_no_output_has_no_p99() -> None:
    empty = PhaseResult(
        "naive", "step", 100, 0, 0.0, 0.0, {}, target_rate=500.0, latency=Percentiles.of([]), kept_up=False
    )

    (line,) = plot_figures([empty], "t").lines

    assert line.points == [RatePoint(offered=500.0, achieved=0.0, p99_ms=None, kept_up=False)]


def test_the_figures_json_sits_beside_the_png_and_reads_back(tmp_path: Path) -> None:
    figures = plot_figures(_results(), "a run")
    png = tmp_path / "plots" / "pipeline.png"

    data = write_figures(figures, png)

    assert data == tmp_path / "plots" / "pipeline.json"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_figures(data) == figures
    assert json.loads(data.read_text())["lines"][2]["backlog_rate"] is None  # NaN is not valid JSON
