"""`rtinfer bench features`: Feast online read latency (SQLite vs Redis) and the feature writer's
throughput and lag.

Online reads go through rtinfer's adapter (FeastOnlineFeatures.read) against the same
materialized repo on both stores, for 1, 64 and 512 entities per call. The writer runs in
this process (its FastStream app, real Kafka and Redis): events/s on a pre-produced backlog,
then event time -> visible online at a fixed produce rate, with each payment stamped with
the moment it is sent. Needs the servers: `rtinfer stack up` and `eval "$(rtinfer stack env)"`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="1,64,512", help="entities per online read (1,64,512)")
    parser.add_argument(
        "--rounds", type=int, default=300, help="online reads per store and size, at most (300)"
    )
    parser.add_argument("--budget-s", type=float, default=60.0, help="time cap of the online reads (60)")
    parser.add_argument("--events", type=int, default=20_000, help="writer backlog events (20000)")
    parser.add_argument(
        "--rate", type=float, default=500.0, help="produce rate of the lag phase, events/s (500)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lag phase (20)")
    parser.add_argument("--max-records", type=int, default=500, help="writer micro-batch records (500)")
    parser.add_argument("--batch-timeout-ms", type=int, default=100, help="writer micro-batch wait (100)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def run(args: argparse.Namespace) -> int:
    from benchmarks.features_run import run_features_bench

    return run_features_bench(args)
