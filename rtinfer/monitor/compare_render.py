"""Comparison reports as a rich table, the verdict's reasons, and a PNG plot (matplotlib Agg)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from events.comparison import MetricComparison, ModelComparison, Verdict

RANKED = (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"), ("recall_at_budget", "recall at equal budget"))
VERDICT_STYLE = {
    Verdict.PROMOTE: "bold green",
    Verdict.KEEP: "yellow",
    Verdict.NOT_ENOUGH_EVIDENCE: "dim",
}
VERDICT_COLOUR = {Verdict.PROMOTE: "green", Verdict.KEEP: "orange", Verdict.NOT_ENOUGH_EVIDENCE: "grey"}


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def metric_cell(figure: MetricComparison) -> str:
    """ "champion -> challenger" and, below, the difference with its interval when there is one."""
    line = f"{_number(figure.champion)} -> {_number(figure.challenger)}"
    if figure.difference is None:
        return line
    interval = (
        f" [{_number(figure.ci_low, True)}, {_number(figure.ci_high, True)}]"
        if figure.ci_low is not None
        else ""
    )
    return f"{line}\n{_number(figure.difference, True)}{interval}"


def comparison_table(reports: Sequence[ModelComparison]) -> Table:
    """One row per window and challenger: counts, the compared figures (champion -> challenger,
    difference [interval]), score PSI and the verdict."""
    table = Table(title="champion vs challenger", title_justify="left", show_lines=True)
    for column in ("window end", "size", "challenger", "paired", "frauds"):
        table.add_column(column, justify="left" if column in ("window end", "challenger") else "right")
    for _name, label in RANKED:
        table.add_column(label, justify="right")
    table.add_column("flag rate", justify="right")
    table.add_column("score PSI", justify="right")
    table.add_column("verdict")
    for report in reports:
        verdict = report.verdict.verdict
        table.add_row(
            report.window.end.isoformat(timespec="seconds"),
            f"{report.window.size_s}s",
            f"{report.challenger_name} {report.challenger_version}\nvs {report.champion_name} "
            f"{report.champion_version}",
            str(report.counts.paired),
            str(report.counts.positives),
            *(metric_cell(getattr(report, name)) for name, _label in RANKED),
            metric_cell(report.flag_rate),
            _number(report.score_psi),
            f"[{VERDICT_STYLE[verdict]}]{verdict.value}[/]",
        )
    return table


def print_verdict(console: Console, report: ModelComparison) -> None:
    """The verdict of `report` and its reasons, one line each."""
    verdict = report.verdict
    console.print(
        f"verdict for {verdict.challenger_name} {verdict.challenger_version} vs {verdict.champion_name} "
        f"{verdict.champion_version}, window ending {verdict.window.end.isoformat(timespec='seconds')}: "
        f"[{VERDICT_STYLE[verdict.verdict]}]{verdict.verdict.value}[/]"
    )
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False)


def plot_comparisons(reports: Sequence[ModelComparison], out: Path) -> Path:
    """Per ranked figure, both models' values per window (top) and the difference with its
    bootstrap interval as a band (bottom), the recall panel marked by verdict; written to `out`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(15, 8), layout="constrained")
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots(2, len(RANKED), sharex=True)
    challengers = sorted({report.challenger_name for report in reports})
    for column, (name, label) in enumerate(RANKED):
        values_axes, difference_axes = axes[0][column], axes[1][column]
        for challenger in challengers:
            chosen = [report for report in reports if report.challenger_name == challenger]
            ends = [report.window.end for report in chosen]
            figures = [getattr(report, name) for report in chosen]
            values_axes.plot(ends, [_nan(f.champion) for f in figures], "k--", marker=".", label="champion")
            values_axes.plot(ends, [_nan(f.challenger) for f in figures], marker=".", label=challenger)
            line = difference_axes.plot(
                ends, [_nan(f.difference) for f in figures], marker=".", label=challenger
            )
            difference_axes.fill_between(
                ends,
                [_nan(f.ci_low) for f in figures],
                [_nan(f.ci_high) for f in figures],
                color=line[0].get_color(),
                alpha=0.2,
            )
            if name == "recall_at_budget":
                for report in chosen:
                    difference_axes.scatter(
                        [report.window.end],
                        [_nan(report.recall_at_budget.difference)],
                        color=VERDICT_COLOUR[report.verdict.verdict],
                        zorder=3,
                    )
        values_axes.set_title(label)
        values_axes.set_ylim(0, 1.02)
        difference_axes.axhline(0.0, color="black", linewidth=1)
        difference_axes.set_ylabel("challenger - champion")
        difference_axes.set_xlabel("window end (UTC)")
        locator = AutoDateLocator()
        difference_axes.xaxis.set_major_locator(locator)
        difference_axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        values_axes.legend(fontsize="small", loc="best")
    if reports:
        gain = reports[-1].verdict.rule.min_recall_gain
        axes[1][len(RANKED) - 1].axhline(
            gain, color="green", linestyle="--", linewidth=1, label="promotion gain"
        )
        axes[1][len(RANKED) - 1].legend(fontsize="small", loc="best")
    sizes = sorted({report.window.size_s for report in reports})
    confidence = reports[-1].bootstrap.confidence if reports else 0.95
    figure.suptitle(
        f"champion vs challenger over {len(reports)} windows of {', '.join(f'{size}s' for size in sizes)} "
        f"(bands: {confidence * 100:g} % paired bootstrap intervals; dots on recall: green promote, "
        "orange keep, grey not enough evidence)"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.print_png(str(out))
    return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
