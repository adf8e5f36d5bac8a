"""The pipeline benchmark's plot: throughput and p99 latency against the offered rate.

One line per variant (and per scoring process count), its fixed-rate phase and rate steps as
points, the backlog throughput in its legend entry. The figures are written as JSON next to
the PNG, so the plot can be drawn again without servers (`rtinfer bench pipeline --replot`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.phases import PhaseResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

P99_TARGET_MS = 50.0


@dataclass(frozen=True)
class RatePoint:
    offered: float  # events/s produced
    achieved: float  # outputs/s over the phase
    p99_ms: float | None  # None when nothing came out
    kept_up: bool


@dataclass(frozen=True)
class VariantLine:
    label: str
    variant: str
    processes: int | None  # None: in the bench process
    backlog_rate: float | None  # events/s on the pre-produced backlog, None if not run
    points: list[RatePoint] = field(default_factory=list)  # by offered rate


@dataclass(frozen=True)
class PipelineFigures:
    title: str
    lines: list[VariantLine]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, figures: dict[str, Any]) -> PipelineFigures:
        lines = [
            VariantLine(**{**line, "points": [RatePoint(**point) for point in line["points"]]})
            for line in figures["lines"]
        ]
        return cls(figures["title"], lines)


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def plot_figures(results: Sequence[PhaseResult], title: str) -> PipelineFigures:
    """Lines from the phases: every fixed-rate and step phase is a point of its variant's line."""
    labels: dict[str, tuple[str, int | None]] = {}
    for result in results:
        labels.setdefault(result.label, (result.variant, result.processes))
    lines = []
    for label, (variant, processes) in labels.items():
        mine = [r for r in results if r.label == label]
        backlog = next((r for r in mine if r.kind == "backlog"), None)
        rated = sorted((r for r in mine if r.target_rate is not None), key=lambda r: r.target_rate or 0.0)
        points = [
            RatePoint(
                offered=r.target_rate or 0.0,
                achieved=_number(r.rate) or 0.0,
                p99_ms=_number(r.latency.p99) if r.latency is not None else None,
                kept_up=r.kept_up,
            )
            for r in rated
        ]
        rate = _number(backlog.rate) if backlog is not None else None
        lines.append(VariantLine(label, variant, processes, rate, points))
    return PipelineFigures(title, lines)


def write_figures(figures: PipelineFigures, png: Path) -> Path:
    """Draw `png` and write the figures beside it (same stem, .json); returns the JSON's path."""
    png.parent.mkdir(parents=True, exist_ok=True)
    data = png.with_suffix(".json")
    data.write_text(json.dumps(figures.to_json(), indent=2) + "\n")
    draw(figures, png)
    return data


def read_figures(data: Path) -> PipelineFigures:
    return PipelineFigures.from_json(json.loads(data.read_text()))


def _legend(line: VariantLine) -> str:
    if line.backlog_rate is None:
        return line.label
    return f"{line.label} (backlog {line.backlog_rate:,.0f}/s)"


def draw(figures: PipelineFigures, png: Path) -> None:
    """Two panels, log-log: achieved vs offered rate, and p99 vs offered rate. A cross marks
    a rate the variant did not keep up with."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(13, 5), layout="constrained")
    FigureCanvasAgg(figure)
    throughput, latency = figure.subplots(1, 2)
    offered_all = [point.offered for line in figures.lines for point in line.points]
    if offered_all:
        span = [min(offered_all), max(offered_all)]
        throughput.plot(span, span, linestyle="--", color="grey", linewidth=1, label="offered")
    latency.axhline(P99_TARGET_MS, linestyle=":", color="grey", linewidth=1, label=f"{P99_TARGET_MS:.0f} ms")
    for line in figures.lines:
        offered = [point.offered for point in line.points]
        (drawn,) = throughput.plot(
            offered, [p.achieved for p in line.points], marker="o", label=_legend(line)
        )
        colour = drawn.get_color()
        with_p99 = [p for p in line.points if p.p99_ms is not None]
        latency.plot([p.offered for p in with_p99], [p.p99_ms for p in with_p99], marker="o", color=colour)
        missed = [p for p in line.points if not p.kept_up]
        throughput.scatter(
            [p.offered for p in missed], [p.achieved for p in missed], marker="x", s=90, color=colour
        )
        missed_p99 = [p for p in missed if p.p99_ms is not None]
        latency.scatter(
            [p.offered for p in missed_p99], [p.p99_ms for p in missed_p99], marker="x", s=90, color=colour
        )
    for axes in (throughput, latency):
        _log_axes(axes, sorted(set(offered_all)))
    throughput.set_ylabel("achieved, events/s")
    throughput.set_title("throughput (× = not kept up)")
    latency.set_ylabel("p99 event → prediction, ms")
    latency.set_title("p99 latency")
    throughput.legend(fontsize="small")
    latency.legend(fontsize="small")
    figure.suptitle(figures.title)
    figure.savefig(png, dpi=110)


def _log_axes(axes: Axes, offered: list[float]) -> None:
    """Log-log with plain numbers: the offered rates as x ticks, 1-2-5 steps on y."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plain = FuncFormatter(lambda value, _position: f"{value:,.0f}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    if offered:
        axes.set_xticks(offered)
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("offered rate, events/s")
    axes.grid(True, which="both", alpha=0.3)
