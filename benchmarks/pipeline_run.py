"""Running the pipeline benchmark: environment, CPU sampler, the phases in order, the report."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

import psutil
from rich.console import Console

from benchmarks.cpu import CpuSampler, GcWatch, stack_pids
from benchmarks.environment import BenchEnv, bench_env
from benchmarks.naive import NaiveRunner
from benchmarks.phases import PhaseResult, Phases
from benchmarks.pipeline_plot import plot_figures, write_figures
from benchmarks.pipeline_report import print_report
from benchmarks.processes import ProcessRunner, ScoringProcessError
from benchmarks.runners import EchoRunner, Runner, ScoringRunner, TopicSet, quiet_faststream
from benchmarks.scaling import topic_partitions
from rtinfer.model.launcher import ModelServerStartError
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.admin import delete_topics_with_prefix
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.vectors.settings import VectorSettings
from services.core.errors import DependencyError

log = logging.getLogger("rtinfer.bench")
KNOWN_VARIANT = re.compile(r"echo|naive|rtinfer(?:-all)?(?:-flight(\d+))?")


def run_pipeline_bench(args: argparse.Namespace) -> int:
    variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = sorted(name for name in variants if not KNOWN_VARIANT.fullmatch(name))
    if unknown:
        print(
            f"error: unknown variants {unknown}; choose from echo, naive, rtinfer, rtinfer-all "
            "(rtinfer and rtinfer-all take a suffix -flightN: N micro-batches in flight)"
        )
        return 2
    rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    try:
        partitions = topic_partitions(args.processes, args.partitions)
    except ValueError as error:
        print(f"error: {error}")
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    quiet_faststream()
    console = Console() if Console().is_terminal else Console(width=200)  # piped: keep rows whole
    kafka = KafkaSettings()
    started = time.monotonic()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="rtinfer-bench-pipeline-") as scratch,
            bench_env(Path(scratch), kafka, FeastSettings().redis_url, args.vectors, VectorSettings()) as env,
        ):
            console.print(f"environment built in {time.monotonic() - started:.0f} s")
            processes = {**stack_pids(), "model": env.server.pid}
            sampler = CpuSampler(processes)  # Milvus Lite runs inside this process
            # SDK clients left open at exit warn; the weaviate client turns every warning on at import.
            warnings.filterwarnings("ignore", category=ResourceWarning)
            sampler.start()
            try:
                with GcWatch() as gc_watch:
                    phases = Phases(env.kafka, env.payments, sampler, gc_watch, env.name, partitions)
                    runners = _runners(env, args, variants, sampler, Path(scratch))
                    results = asyncio.run(_all_phases(phases, env, args, runners, rates))
            finally:
                sampler.stop()
    except ScoringProcessError as error:
        console.print(f"[red]error[/]: {error}")
        return 1
    except (DependencyError, ModelServerStartError, ConnectionError, OSError) as error:
        console.print(
            f"[red]error[/]: {error} (is the stack up? `rtinfer stack up`, then `rtinfer stack env`)"
        )
        return 1
    seconds = time.monotonic() - started
    _print_header(console, args, sampler.names, partitions, seconds)
    print_report(console, results, sampler.names, args.rates)
    figures = plot_figures(results, _plot_title(args, partitions))
    data = write_figures(figures, args.plot)
    console.print(f"plot: {args.plot} (figures: {data})")
    return 0


def _plot_title(args: argparse.Namespace, partitions: int) -> str:
    return (
        f"rtinfer bench pipeline: {psutil.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f} at the end), "
        f"model over {args.protocol}, vectors in "
        f"{args.vectors}, micro-batch ≤ {args.max_records} / {args.batch_timeout_ms} ms, "
        f"{partitions} partitions, {args.step_seconds:.0f} s per rate"
    )


def _print_header(
    console: Console, args: argparse.Namespace, processes: list[str], partitions: int, seconds: float
) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    scoring = (
        "rtinfer in this process"
        if args.processes == [1]
        else f"rtinfer as {', '.join(map(str, args.processes))} scoring processes (CPU as scoring1..N)"
    )
    console.print(
        f"\n[bold]pipeline[/]: {psutil.cpu_count()} CPUs (load {load}), run took {seconds:.0f} s; "
        f"model over {args.protocol}, vectors in {args.vectors}, micro-batch ≤ {args.max_records} records "
        f"/ {args.batch_timeout_ms} ms; backlog {args.events} events (echo, rtinfer), "
        f"{args.naive_events} (naive); {scoring}, topics of {partitions} partitions; "
        f"CPU of: {', '.join(processes)} (bench = this process)"
    )


def _runners(
    env: BenchEnv, args: argparse.Namespace, variants: list[str], sampler: CpuSampler, scratch: Path
) -> list[Runner]:
    """The variants in order; an rtinfer variant once per process count when counts are given."""
    logs = scratch / "scoring-logs"
    logs.mkdir()
    runners: list[Runner] = []
    for variant in variants:
        if variant == "echo":
            runners.append(EchoRunner(env.kafka, args.max_records, args.batch_timeout_ms))
        elif variant == "naive":
            runners.append(NaiveRunner(env, args.protocol))
        elif args.processes == [1]:
            # rtinfer-all: neighbours for every prediction (the 0.1 behaviour), beside `flagged`;
            # -flightN: N micro-batches in flight (batches_in_flight)
            flight = KNOWN_VARIANT.fullmatch(variant)
            assert flight is not None
            runners.append(
                ScoringRunner(
                    env, args.protocol, args.max_records, args.batch_timeout_ms,
                    neighbours_for="all" if variant.startswith("rtinfer-all") else "flagged", name=variant,
                    in_flight=int(flight.group(1) or 1),
                )
            )  # fmt: skip
        else:
            runners += [
                ProcessRunner(
                    env, args.protocol, args.max_records, args.batch_timeout_ms, count=count,
                    sampler=sampler, log_dir=logs, variant=variant,
                    neighbours_for="all" if variant == "rtinfer-all" else "flagged",
                )
                for count in args.processes
            ]  # fmt: skip
    return runners


async def _all_phases(
    phases: Phases, env: BenchEnv, args: argparse.Namespace, runners: list[Runner], rates: list[float]
) -> list[PhaseResult]:
    results: list[PhaseResult] = []
    try:
        for runner in runners:
            count = args.naive_events if runner.variant == "naive" else args.events
            profiler = cProfile.Profile() if args.profile and runner.name == "rtinfer" else None
            results.append(await phases.backlog(runner, count, max(120.0, count / 10), profiler))
            if profiler is not None:
                profiler.dump_stats(args.profile)
            log.info("%s backlog: %.0f events/s", runner.name, results[-1].rate)
        for runner in runners:
            results += await _rate_phases(phases, runner, args, rates)
    finally:
        await delete_topics_with_prefix(env.kafka, env.name)
    return results


async def _rate_phases(
    phases: Phases, runner: Runner, args: argparse.Namespace, rates: list[float]
) -> list[PhaseResult]:
    topics = TopicSet(f"{phases.name}-{runner.name}-rate")
    before = await phases.warm_up(runner, topics, args.warmup)
    results = []
    try:
        fixed = await phases.at_rate(runner, topics, "r", args.latency_rate, args.latency_seconds, before)
        results.append(fixed)
        before += fixed.events
        log.info("%s at %.0f/s: p99 %s ms", runner.name, args.latency_rate, fixed.latency)
        for rate in rates:
            step = await phases.at_rate(
                runner, topics, f"s{rate:.0f}", rate, args.step_seconds, before, "step"
            )
            results.append(step)
            before += step.events
            log.info("%s step %.0f/s: achieved %.0f/s, %s", runner.name, rate, step.rate, step.latency)
            if not step.kept_up:
                break
    finally:
        await runner.stop()
    return results
