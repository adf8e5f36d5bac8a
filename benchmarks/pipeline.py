"""`rtinfer bench pipeline`: a raw Kafka echo vs a naive one-event-at-a-time pipeline vs rtinfer.

One run on one machine with the same data: (a) aiokafka consume -> produce unchanged ->
commit per batch; (b) naive: one event at a time, sequential awaits, the same adapters;
(c) rtinfer's ScoringApp (micro-batched). Each gets a pre-produced backlog (events/s) and
a fixed produce rate (latency p50/p95/p99 by Kafka timestamps); rtinfer then steps up the
rate. CPU seconds of this process, the model server and the stack servers are charged per
phase. Needs the servers: `rtinfer stack up` and `eval "$(rtinfer stack env)"`.
"""

from __future__ import annotations

import argparse

VARIANTS = ("echo", "naive", "rtinfer")


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
        help="rtinfer's rate steps, events/s (100,250,500,1000,2000)",
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
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of rtinfer's backlog phase")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def run(args: argparse.Namespace) -> int:
    from benchmarks.pipeline_run import run_pipeline_bench

    return run_pipeline_bench(args)
