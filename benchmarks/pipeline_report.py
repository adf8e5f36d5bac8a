"""Printing the pipeline benchmark: throughput, latency, stages, rate steps, scaling, the verdict.

Rows are keyed by label: the variant, and its scoring process count when it ran as processes.
CPU is printed as ms per output event for each sampled process; "scoring" sums the scoring
processes (scoring1..N), "bench" is this process (where echo, naive and in-process rtinfer run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.latency import STAGES, Percentiles
from benchmarks.phases import PhaseResult
from benchmarks.scaling import SCORING, ScalingRow, scaling_rows

P99_TARGET_MS = 50.0


def _table(title: str, columns: Sequence[str], left: int = 1) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index < left else "right")
    return table


def _ratio(top: float, bottom: float) -> str:
    return f"{top / bottom:.2f}×" if bottom and not math.isnan(top) and not math.isnan(bottom) else "n/a"


def _gc_cell(result: PhaseResult) -> str:
    pauses = result.gc_pauses_ms
    return f"{len(pauses)} / {max(pauses):.0f}" if pauses else "0"


def cpu_columns(results: Sequence[PhaseResult], processes: Sequence[str]) -> list[str]:
    """The run's processes, with "scoring" after "bench" when scoring processes ran."""
    columns = list(processes)
    if any(name.startswith(SCORING) for result in results for name in result.cpu):
        columns.insert(1 if columns[:1] == ["bench"] else 0, SCORING)
    return columns


def _cpu_cells(result: PhaseResult, columns: Sequence[str]) -> list[str]:
    return [f"{result.cpu_ms_per_event(name):.2f}" for name in columns] + [f"{result.cpu_ms_per_event():.2f}"]


def _cpu_headers(columns: Sequence[str]) -> list[str]:
    return [*columns, "all"]


def baseline(results: Sequence[PhaseResult], variant: str) -> PhaseResult | None:
    """The variant's result to compare against: in this process, else the fewest processes."""
    mine = [r for r in results if r.variant == variant]
    return min(mine, key=lambda r: r.processes or 0, default=None)


def print_report(console: Console, results: list[PhaseResult], processes: Sequence[str], rates: str) -> None:
    columns = cpu_columns(results, processes)
    backlog = {r.label: r for r in results if r.kind == "backlog"}
    fixed = {r.label: r for r in results if r.kind == "rate"}
    steps = [r for r in results if r.kind == "step"]
    _print_throughput(console, backlog, columns)
    _print_latency(console, fixed, columns)
    _print_stages(console, backlog, fixed)
    _print_steps(console, steps, columns, rates)
    _print_scaling(console, scaling_rows(results))
    _print_verdict(console, list(backlog.values()), list(fixed.values()), steps)


def _print_throughput(console: Console, backlog: dict[str, PhaseResult], columns: Sequence[str]) -> None:
    table = _table(
        "throughput on a pre-produced backlog (first to last output record); CPU ms per event over that window",
        ["variant", "events", "out", "seconds", "events/s", "vs naive", "vs echo", *_cpu_headers(columns)],
    )
    naive, echo = backlog.get("naive"), backlog.get("echo")
    for result in backlog.values():
        table.add_row(
            result.label, str(result.events), str(result.received), f"{result.seconds:.2f}",
            f"{result.rate:,.0f}", _ratio(result.rate, naive.rate) if naive else "n/a",
            _ratio(result.rate, echo.rate) if echo else "n/a", *_cpu_cells(result, columns),
        )  # fmt: skip
    console.print(table)


def _percentile_cells(latency: Percentiles | None) -> list[str]:
    if latency is None or not latency.count:
        return ["n/a"] * 4
    return [f"{latency.p50:.0f}", f"{latency.p95:.0f}", f"{latency.p99:.0f}", f"{latency.max:.0f}"]


def _print_latency(console: Console, fixed: dict[str, PhaseResult], columns: Sequence[str]) -> None:
    if not fixed:
        return
    rate = next(iter(fixed.values())).target_rate or 0.0
    table = _table(
        f"event -> output latency at {rate:.0f} events/s (output minus input Kafka timestamp, ms); "
        "CPU ms per event",
        ["variant", "events", "out", "achieved/s", "p50", "p95", "p99", "max", "kept up", "gc2 n/max ms",
         *_cpu_headers(columns)],
    )  # fmt: skip
    for result in fixed.values():
        table.add_row(
            result.label, str(result.events), str(result.received), f"{result.rate:,.0f}",
            *_percentile_cells(result.latency), "yes" if result.kept_up else "NO", _gc_cell(result),
            *_cpu_cells(result, columns),
        )  # fmt: skip
    console.print(table)


def _stage_cells(stages: dict[str, Percentiles], stage: str) -> list[str]:
    found = stages.get(stage)
    if found is None or not found.count:
        return ["-"] * 3
    return [f"{found.p50:.1f}", f"{found.p95:.1f}", f"{found.p99:.1f}"]


def _print_stages(console: Console, backlog: dict[str, PhaseResult], fixed: dict[str, PhaseResult]) -> None:
    """rtinfer per micro-batch stage (events' latency_ms, and in-process), naive per event."""
    table = _table(
        "per-stage ms, per event (rtinfer: its micro-batch's timings; naive: the event's own)",
        ["variant / phase", "stage", "p50", "p95", "p99", "source"], left=2,
    )  # fmt: skip
    labels = [label for label, r in backlog.items() if r.variant in ("rtinfer", "naive")]
    for label in labels:
        for phase, result in (("backlog", backlog.get(label)), ("fixed rate", fixed.get(label))):
            if result is None:
                continue
            names = (
                [*STAGES[:4], "send", "commit", "total"]
                if result.variant == "naive"
                else [*STAGES, "handle", "batch size"]
            )
            for stage in names:
                from_events = stage in result.event_stages and result.event_stages[stage].count
                source = "latency_ms" if from_events else "in process"
                stages = result.event_stages if from_events else result.stages
                if stage in stages:
                    table.add_row(f"{label} / {phase}", stage, *_stage_cells(stages, stage), source)
    console.print(table)
    console.print(
        "  handle = pipeline + publishing predictions (acks) + queueing explanations; batch size in events."
    )


def _print_steps(console: Console, steps: list[PhaseResult], columns: Sequence[str], rates: str) -> None:
    if not steps:
        return
    table = _table(
        f"stepped rates ({rates} events/s; each variant stops at the first step it cannot keep up with)",
        ["variant", "target/s", "events", "out", "achieved/s", "p50", "p95", "p99", "max", "kept up",
         "gc2 n/max ms", *_cpu_headers(columns)],
    )  # fmt: skip
    for result in steps:
        table.add_row(
            result.label, f"{result.target_rate:.0f}", str(result.events), str(result.received),
            f"{result.rate:,.0f}", *_percentile_cells(result.latency), "yes" if result.kept_up else "NO",
            _gc_cell(result), *_cpu_cells(result, columns),
        )  # fmt: skip
    console.print(table)


def scaling_cells(row: ScalingRow) -> list[str]:
    """One row of the scaling table as printed."""
    return [
        row.label, str(row.processes), f"{row.rate:,.0f}",
        f"{row.speedup:.2f}×" if not math.isnan(row.speedup) else "n/a",
        f"{row.efficiency:.0%}" if not math.isnan(row.efficiency) else "n/a",
        " + ".join(f"{ms:.2f}" for ms in row.per_process_ms), f"{row.scoring_ms:.2f}",
        f"{row.scoring_cores:.2f}", f"{row.all_ms:.2f}",
    ]  # fmt: skip


def _print_scaling(console: Console, rows: list[ScalingRow]) -> None:
    if not rows:
        return
    table = _table(
        "scaling: N scoring processes in one consumer group, backlog (speedup vs the fewest processes)",
        ["variant", "processes", "events/s", "speedup", "per process", "CPU ms/event each", "scoring",
         "scoring cores", "all"],
    )  # fmt: skip
    for row in rows:
        table.add_row(*scaling_cells(row))
    console.print(table)
    console.print(
        "  per process = speedup / added processes (100%: linear); CPU ms/event each = that process's "
        "CPU over all events; scoring cores = their CPU seconds per second."
    )


def _print_verdict(
    console: Console, backlog: list[PhaseResult], fixed: list[PhaseResult], steps: list[PhaseResult]
) -> None:
    lines = []
    ours, naive, echo = (baseline(backlog, name) for name in ("rtinfer", "naive", "echo"))
    if ours and naive:
        ratio = ours.rate / naive.rate
        lines.append(f"throughput {ours.label} / naive: {ratio:.1f}× (target ≥ 20×): {_mark(ratio >= 20)}")
    if ours and echo:
        ratio = ours.rate / echo.rate
        lines.append(f"throughput {ours.label} / echo: {ratio:.2f}× (target ≥ 0.25×): {_mark(ratio >= 0.25)}")
    ours_fixed, naive_fixed = baseline(fixed, "rtinfer"), baseline(fixed, "naive")
    if ours_fixed and naive_fixed and ours_fixed.latency and naive_fixed.latency:
        ours_p99, naive_p99 = ours_fixed.latency.p99, naive_fixed.latency.p99
        lines.append(
            f"p99 at {ours_fixed.target_rate:.0f}/s: {ours_fixed.label} {ours_p99:.0f} ms vs naive "
            f"{naive_p99:.0f} ms (target: no worse): {_mark(ours_p99 <= naive_p99)}"
        )
    for label in dict.fromkeys(s.label for s in steps if s.variant == "rtinfer"):
        mine = [s for s in steps if s.label == label]
        sustained = [s for s in mine if s.kept_up and s.latency and s.latency.p99 <= P99_TARGET_MS]
        best = max((s.target_rate or 0.0 for s in sustained), default=None)
        found = f"{best:.0f} events/s" if best else "none of the steps"
        lines.append(f"highest stepped rate {label} sustains with p99 ≤ {P99_TARGET_MS:.0f} ms: {found}")
    for line in lines:
        console.print(line)


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"
