"""Printing the pipeline benchmark: throughput, latency, stages, rate steps, and the verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.latency import STAGES, Percentiles
from benchmarks.phases import PhaseResult

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


def _cpu_cells(result: PhaseResult, processes: Sequence[str]) -> list[str]:
    return [f"{result.cpu.get(name, 0.0):.2f}" for name in processes] + [f"{result.cpu_ms_per_event():.2f}"]


def print_report(console: Console, results: list[PhaseResult], processes: Sequence[str], rates: str) -> None:
    backlog = {r.variant: r for r in results if r.kind == "backlog"}
    fixed = {r.variant: r for r in results if r.kind == "rate"}
    steps = [r for r in results if r.kind == "step"]
    _print_throughput(console, backlog, processes)
    _print_latency(console, fixed, processes)
    _print_stages(console, backlog, fixed)
    _print_steps(console, steps, processes, rates)
    _print_verdict(console, backlog, fixed, steps)


def _print_throughput(console: Console, backlog: dict[str, PhaseResult], processes: Sequence[str]) -> None:
    table = _table(
        "throughput on a pre-produced backlog (first to last output record); CPU s over that window",
        [
            "variant",
            "events",
            "out",
            "seconds",
            "events/s",
            "vs naive",
            "vs echo",
            *processes,
            "CPU ms/event",
        ],
    )
    naive, echo = backlog.get("naive"), backlog.get("echo")
    for result in backlog.values():
        table.add_row(
            result.variant, str(result.events), str(result.received), f"{result.seconds:.2f}",
            f"{result.rate:,.0f}", _ratio(result.rate, naive.rate) if naive else "n/a",
            _ratio(result.rate, echo.rate) if echo else "n/a", *_cpu_cells(result, processes),
        )  # fmt: skip
    console.print(table)


def _percentile_cells(latency: Percentiles | None) -> list[str]:
    if latency is None or not latency.count:
        return ["n/a"] * 4
    return [f"{latency.p50:.0f}", f"{latency.p95:.0f}", f"{latency.p99:.0f}", f"{latency.max:.0f}"]


def _print_latency(console: Console, fixed: dict[str, PhaseResult], processes: Sequence[str]) -> None:
    if not fixed:
        return
    rate = next(iter(fixed.values())).target_rate or 0.0
    table = _table(
        f"event -> output latency at {rate:.0f} events/s (output minus input Kafka timestamp, ms)",
        [
            "variant",
            "events",
            "out",
            "achieved/s",
            "p50",
            "p95",
            "p99",
            "max",
            "kept up",
            "gc2 n/max ms",
            *processes,
            "CPU ms/event",
        ],
    )
    for result in fixed.values():
        table.add_row(
            result.variant, str(result.events), str(result.received), f"{result.rate:,.0f}",
            *_percentile_cells(result.latency), "yes" if result.kept_up else "NO", _gc_cell(result),
            *_cpu_cells(result, processes),
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
    for variant in ("rtinfer", "naive"):
        for phase, result in (("backlog", backlog.get(variant)), ("fixed rate", fixed.get(variant))):
            if result is None:
                continue
            names = (
                [*STAGES, "handle", "batch size"]
                if variant == "rtinfer"
                else [*STAGES[:4], "send", "commit", "total"]
            )
            for stage in names:
                from_events = stage in result.event_stages and result.event_stages[stage].count
                source = "latency_ms" if from_events else "in process"
                stages = result.event_stages if from_events else result.stages
                if stage in stages:
                    table.add_row(f"{variant} / {phase}", stage, *_stage_cells(stages, stage), source)
    console.print(table)
    console.print(
        "  handle = pipeline + publishing predictions (acks) + queueing explanations; batch size in events."
    )


def _print_steps(console: Console, steps: list[PhaseResult], processes: Sequence[str], rates: str) -> None:
    if not steps:
        return
    table = _table(
        f"rtinfer at stepped rates ({rates} events/s; stops at the first step it cannot keep up with)",
        [
            "target/s",
            "events",
            "out",
            "achieved/s",
            "p50",
            "p95",
            "p99",
            "max",
            "kept up",
            "gc2 n/max ms",
            *processes,
            "CPU ms/event",
        ],
    )
    for result in steps:
        table.add_row(
            f"{result.target_rate:.0f}", str(result.events), str(result.received), f"{result.rate:,.0f}",
            *_percentile_cells(result.latency), "yes" if result.kept_up else "NO", _gc_cell(result),
            *_cpu_cells(result, processes),
        )  # fmt: skip
    console.print(table)


def _print_verdict(
    console: Console, backlog: dict[str, PhaseResult], fixed: dict[str, PhaseResult], steps: list[PhaseResult]
) -> None:
    lines = []
    ours, naive, echo = backlog.get("rtinfer"), backlog.get("naive"), backlog.get("echo")
    if ours and naive:
        ratio = ours.rate / naive.rate
        lines.append(f"throughput rtinfer / naive: {ratio:.1f}× (target ≥ 20×): {_mark(ratio >= 20)}")
    if ours and echo:
        ratio = ours.rate / echo.rate
        lines.append(f"throughput rtinfer / echo: {ratio:.2f}× (target ≥ 0.25×): {_mark(ratio >= 0.25)}")
    ours_fixed, naive_fixed = fixed.get("rtinfer"), fixed.get("naive")
    if ours_fixed and naive_fixed and ours_fixed.latency and naive_fixed.latency:
        ours_p99, naive_p99 = ours_fixed.latency.p99, naive_fixed.latency.p99
        lines.append(
            f"p99 at {ours_fixed.target_rate:.0f}/s: rtinfer {ours_p99:.0f} ms vs naive {naive_p99:.0f} ms "
            f"(target: no worse): {_mark(ours_p99 <= naive_p99)}"
        )
    sustained = [s for s in steps if s.kept_up and s.latency and s.latency.p99 <= P99_TARGET_MS]
    best = max((s.target_rate or 0.0 for s in sustained), default=None)
    if steps:
        found = f"{best:.0f} events/s" if best else "none of the steps"
        lines.append(f"highest stepped rate rtinfer sustains with p99 ≤ {P99_TARGET_MS:.0f} ms: {found}")
    for line in lines:
        console.print(line)


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"
