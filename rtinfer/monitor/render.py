"""Drift reports as a rich table and a PNG plot (matplotlib, Agg canvas, no pyplot state)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from events.drift import DriftReport
from services.core.monitoring.config import AlertThresholds

MAX_PLOTTED_FEATURES = 12


def _figure(value: float | None, limit: float | None = None, *, above: bool = True) -> str:
    if value is None:
        return "-"
    text = f"{value:.3f}"
    crossed = limit is not None and (value > limit if above else value < limit)
    return f"[bold red]{text}[/]" if crossed else text


def report_table(reports: Sequence[DriftReport], limits: AlertThresholds | None = None) -> Table:
    """One row per window: counts, score PSI, the worst feature PSI, AUC, disparity, alerts."""
    limits = limits or AlertThresholds()
    table = Table(title="drift reports", title_justify="left")
    for column in (
        "window end",
        "size",
        "predictions",
        "score PSI",
        "max feature PSI",
        "ROC AUC",
        "PR AUC",
        "labeled",
    ):
        table.add_column(column, justify="left" if column in ("window end", "max feature PSI") else "right")
    table.add_column("min disparity", justify="right")
    table.add_column("alerts")
    for report in reports:
        worst = max(report.features.items(), key=lambda item: item[1].psi, default=None)
        worst_text = f"{_figure(worst[1].psi, limits.feature_psi)} ({worst[0]})" if worst else "-"
        disparities = [
            ratio
            for bias in report.bias.values()
            for ratio in (bias.flag_rate_disparity, bias.fpr_disparity, bias.tpr_disparity)
            if ratio is not None
        ]
        table.add_row(
            report.window.end.isoformat(timespec="seconds"),
            f"{report.window.size_s}s",
            str(report.counts.predictions),
            _figure(report.score.psi if report.score else None, limits.score_psi),
            worst_text,
            _figure(report.performance.roc_auc, limits.roc_auc_floor, above=False),
            _figure(report.performance.pr_auc),
            str(report.performance.labeled),
            _figure(min(disparities, default=None), limits.disparity, above=False),
            ", ".join(sorted({alert.metric for alert in report.alerts})) or "-",
        )
    return table


def plot_reports(reports: Sequence[DriftReport], out: Path, limits: AlertThresholds | None = None) -> Path:
    """PSI per feature, score PSI and AUC over the windows, one panel each, written to `out`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    limits = limits or AlertThresholds()
    ends = [report.window.end for report in reports]
    figure = Figure(figsize=(11, 9), layout="constrained")
    canvas = FigureCanvasAgg(figure)
    features_axes, score_axes, auc_axes = figure.subplots(3, 1, sharex=True)
    names = sorted({name for report in reports for name in report.features})
    ranked = sorted(names, key=lambda name: -max(_psi(report, name) for report in reports))
    for name in ranked[:MAX_PLOTTED_FEATURES]:
        features_axes.plot(ends, [_psi(report, name) for report in reports], marker=".", label=name)
    features_axes.axhline(limits.feature_psi, color="red", linestyle="--", linewidth=1)
    features_axes.set_ylabel("feature PSI")
    if ranked:
        features_axes.legend(fontsize="small", ncol=3, loc="upper left")
    score_axes.plot(ends, [report.score.psi if report.score else math.nan for report in reports], marker=".")
    score_axes.axhline(limits.score_psi, color="red", linestyle="--", linewidth=1)
    score_axes.set_ylabel("score PSI")
    for field, label in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC")):
        values = [getattr(report.performance, field) for report in reports]
        auc_axes.plot(
            ends, [math.nan if value is None else value for value in values], marker=".", label=label
        )
    auc_axes.axhline(limits.roc_auc_floor, color="red", linestyle="--", linewidth=1, label="ROC AUC floor")
    auc_axes.set_ylabel("AUC (labeled)")
    auc_axes.set_ylim(0, 1.02)
    auc_axes.legend(fontsize="small", loc="lower left")
    auc_axes.set_xlabel("window end (UTC)")
    sizes = sorted({report.window.size_s for report in reports})
    figure.suptitle(f"drift over {len(reports)} windows of {', '.join(f'{size}s' for size in sizes)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.print_png(str(out))
    return out


def _psi(report: DriftReport, name: str) -> float:
    feature = report.features.get(name)
    return feature.psi if feature is not None else math.nan
