"""`rtinfer bench pipeline`: a raw Kafka echo vs a naive one-event-at-a-time pipeline vs rtinfer.

One run on one machine with the same data: (a) aiokafka consume -> produce unchanged ->
commit per batch; (b) naive: one event at a time, sequential awaits, the same adapters;
(c) rtinfer's ScoringApp (micro-batched), in this process or as N scoring processes in one
consumer group (`--processes`). Each gets a pre-produced backlog (events/s), a fixed produce
rate and then stepped rates (latency p50/p95/p99 by Kafka timestamps). CPU seconds of this
process, the scoring processes, the model server and the stack servers are charged per phase;
a plot of throughput and p99 against the offered rate is written. Needs the servers:
`rtinfer stack up` and `eval "$(rtinfer stack env)"` (not for `--replot`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.scaling import process_counts

VARIANTS = ("echo", "naive", "rtinfer")
DEFAULT_PLOT = Path("var/bench/pipeline.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events", type=int, default=10_000, help="backlog events for echo and rtinfer (10000)"
    )
    parser.add_argument("--naive-events", type=int, default=1_000, help="backlog events for naive (1000)")
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=50.0,
        help="fixed produce rate for the latency comparison, events/s (50)",
    )
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of that phase (10)")
    parser.add_argument(
        "--rates",
        default="100,250,500,1000,2000",
        help="rate steps after the fixed rate, per variant until one is not kept up (100,250,500,1000,2000)",
    )
    parser.add_argument("--step-seconds", type=float, default=10.0, help="length of each rate step (10)")
    parser.add_argument("--protocol", choices=["rest", "grpc"], default="rest", help="model protocol (rest)")
    parser.add_argument(
        "--vectors", choices=["weaviate", "milvus"], default="weaviate", help="vector backend"
    )
    parser.add_argument("--max-records", type=int, default=256, help="records per micro-batch (256)")
    parser.add_argument(
        "--batch-timeout-ms", type=int, default=20, help="max wait to fill a micro-batch (20)"
    )
    parser.add_argument("--warmup", type=int, default=100, help="untimed events before a rate phase (100)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="subset to run, e.g. rtinfer,naive")
    parser.add_argument(
        "--processes",
        type=process_counts,
        default=[1],
        metavar="N[,N...]",
        help="scoring processes for the rtinfer variants (1: in this process); a list such as 1,2 "
        "runs each count as `python -m services.scoring` processes in one consumer group, side by side",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions of the bench's topics (default: ≥ 3 and ≥ the largest --processes, "
        "divisible by every count when that stays ≤ 12)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=DEFAULT_PLOT,
        metavar="PNG",
        help=f"where to draw throughput and p99 against offered rate; figures go to the same stem .json "
        f"({DEFAULT_PLOT})",
    )
    parser.add_argument(
        "--replot", type=Path, metavar="JSON", help="only draw --plot again from a figures JSON; no servers"
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of rtinfer's backlog phase")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def run(args: argparse.Namespace) -> int:
    if args.replot is not None:
        from benchmarks.pipeline_plot import draw, read_figures

        draw(read_figures(args.replot), args.plot)
        print(f"plot: {args.plot}")
        return 0
    from benchmarks.pipeline_run import run_pipeline_bench

    return run_pipeline_bench(args)
