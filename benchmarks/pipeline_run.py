"""Running the pipeline benchmark: environment, CPU sampler, the phases in order, the report."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
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
from benchmarks.pipeline_report import print_report
from benchmarks.runners import EchoRunner, Runner, ScoringRunner, TopicSet, quiet_faststream
from rtinfer.model.launcher import ModelServerStartError
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.admin import delete_topics_with_prefix
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.vectors.settings import VectorSettings
from services.core.errors import DependencyError

log = logging.getLogger("rtinfer.bench")


def run_pipeline_bench(args: argparse.Namespace) -> int:
    variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = sorted(set(variants) - {"echo", "naive", "rtinfer", "rtinfer-all"})
    if unknown:
        print(f"error: unknown variants {unknown}; choose from echo, naive, rtinfer, rtinfer-all")
        return 2
    rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
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
                    phases = Phases(env.kafka, env.payments, sampler, gc_watch, env.name)
                    results = asyncio.run(_all_phases(phases, env, args, variants, rates))
            finally:
                sampler.stop()
    except (DependencyError, ModelServerStartError, ConnectionError, OSError) as error:
        console.print(
            f"[red]error[/]: {error} (is the stack up? `rtinfer stack up`, then `rtinfer stack env`)"
        )
        return 1
    _print_header(console, args, sampler.names, time.monotonic() - started)
    print_report(console, results, sampler.names, args.rates)
    return 0


def _print_header(console: Console, args: argparse.Namespace, processes: list[str], seconds: float) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(
        f"\n[bold]pipeline[/]: {psutil.cpu_count()} CPUs (load {load}), run took {seconds:.0f} s; "
        f"model over {args.protocol}, vectors in {args.vectors}, micro-batch ≤ {args.max_records} records "
        f"/ {args.batch_timeout_ms} ms; backlog {args.events} events (echo, rtinfer), "
        f"{args.naive_events} (naive); CPU seconds of: {', '.join(processes)} (bench = this process)"
    )


def _runners(env: BenchEnv, args: argparse.Namespace, variants: list[str]) -> list[Runner]:
    made: dict[str, Runner] = {
        "echo": EchoRunner(env.kafka, args.max_records, args.batch_timeout_ms),
        "naive": NaiveRunner(env, args.protocol),
        "rtinfer": ScoringRunner(env, args.protocol, args.max_records, args.batch_timeout_ms),
        # neighbours for every prediction (the 0.1 behaviour), beside the default `flagged`
        "rtinfer-all": ScoringRunner(
            env,
            args.protocol,
            args.max_records,
            args.batch_timeout_ms,
            neighbours_for="all",
            name="rtinfer-all",
        ),
    }
    return [made[name] for name in variants]


async def _all_phases(
    phases: Phases, env: BenchEnv, args: argparse.Namespace, variants: list[str], rates: list[float]
) -> list[PhaseResult]:
    runners = _runners(env, args, variants)
    results: list[PhaseResult] = []
    try:
        for runner in runners:
            count = args.naive_events if runner.name == "naive" else args.events
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
        if runner.name != "rtinfer":
            return results
        for rate in rates:
            step = await phases.at_rate(
                runner, topics, f"s{rate:.0f}", rate, args.step_seconds, before, "step"
            )
            results.append(step)
            before += step.events
            log.info("rtinfer step %.0f/s: achieved %.0f/s, %s", rate, step.rate, step.latency)
            if not step.kept_up:
                break
    finally:
        await runner.stop()
    return results
