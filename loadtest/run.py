"""Headless load run for `make load`: locust for a bounded time, reports, p50/p99 at the end.

    python -m loadtest.run --rate 200 --run-time 60s            # Kafka event path
    python -m loadtest.run --users http --host http://127.0.0.1:8090

Writes <out>/report.html and <out>/load_*.csv (default loadtest/reports). Exits 1 when no
event reached a prediction or the failure ratio is above --max-failure-ratio. Only loopback
addresses are accepted.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
from pathlib import Path

from loadtest.loopback import NotLoopbackError, loopback_bootstrap, loopback_url
from loadtest.summary import RequestStats, describe, read_stats

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
EVENT_TO_PREDICTION = "event->prediction"
HTTP_POST = "POST / (binary)"
KAFKA_EVENTS_PER_USER = 25.0  # a Kafka user only hands records over, so a few pace many events
HTTP_REQUESTS_PER_USER = 10.0  # an HTTP user waits for each answer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--users",
        choices=["kafka", "http", "both"],
        default="kafka",
        help="which path to load (default kafka)",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="Kafka payments per second (default 200)")
    parser.add_argument("--http-rate", type=float, default=50.0, help="HTTP requests per second (default 50)")
    parser.add_argument("--run-time", default="60s", help="locust run time, e.g. 60s, 2m (default 60s)")
    parser.add_argument("--bootstrap", default=os.environ.get("RTINFER_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--host", default="http://127.0.0.1:8090", help="scoring push ingress")
    parser.add_argument("--payments-topic", default="payments")
    parser.add_argument("--predictions-topic", default="predictions")
    parser.add_argument(
        "--payments-file",
        default="var/data/payments.parquet",
        help="payments Parquet; a small set is generated when missing",
    )
    parser.add_argument(
        "--prediction-timeout",
        type=float,
        default=10.0,
        help="seconds before an unmatched payment counts as failed (default 10)",
    )
    parser.add_argument("--out", type=Path, default=Path("loadtest/reports"), help="report folder")
    parser.add_argument("--max-failure-ratio", type=float, default=0.01)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d+[smh]?", args.run_time):
        parser.error(f"--run-time {args.run_time!r}: use e.g. 60s, 2m or 1h")
    try:
        args.bootstrap = loopback_bootstrap(args.bootstrap)
        args.host = loopback_url(args.host)
    except NotLoopbackError as error:
        parser.error(str(error))
    return args


def locust_command(args: argparse.Namespace) -> list[str]:
    classes, users = [], 0
    if args.users in ("kafka", "both"):
        classes.append("KafkaPaymentUser")
        users += max(1, math.ceil(args.rate / KAFKA_EVENTS_PER_USER))
    if args.users in ("http", "both"):
        classes.append("HttpPaymentUser")
        users += max(1, math.ceil(args.http_rate / HTTP_REQUESTS_PER_USER))
    options = {
        "--users": str(users),
        "--spawn-rate": str(users),
        "--run-time": args.run_time,
        "--stop-timeout": "5",
        "--host": args.host,
        "--csv": str(args.out / "load"),
        "--html": str(args.out / "report.html"),
        "--exit-code-on-error": "0",  # run.py judges the run itself
        "--bootstrap": args.bootstrap,
        "--payments-topic": args.payments_topic,
        "--predictions-topic": args.predictions_topic,
        "--rate": str(args.rate),
        "--http-rate": str(args.http_rate),
        "--prediction-timeout": str(args.prediction_timeout),
        "--payments-file": args.payments_file,
    }
    flags = [part for pair in options.items() for part in pair]
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        *flags,
        *classes,
    ]


def verdict(stats: dict[str, RequestStats], args: argparse.Namespace) -> list[str]:
    """What is wrong with the run, if anything."""
    problems = []
    wanted = {"kafka": [EVENT_TO_PREDICTION], "http": [HTTP_POST], "both": [EVENT_TO_PREDICTION, HTTP_POST]}
    for name in wanted[args.users]:
        row = stats.get(name)
        if row is None or row.requests == 0:
            problems.append(f"no {name} requests were recorded")
        elif row.failure_ratio > args.max_failure_ratio:
            problems.append(f"{name}: {row.failure_ratio:.2%} failed (limit {args.max_failure_ratio:.2%})")
    return problems


def _seconds(run_time: str) -> int:
    scale = {"s": 1, "m": 60, "h": 3600}.get(run_time[-1], 1)
    return int(run_time.rstrip("smh")) * scale


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    command = locust_command(args)
    print(f"locust: {args.users} users, {args.rate:g} payments/s, {args.run_time}, reports in {args.out}")
    limit = _seconds(args.run_time) + args.prediction_timeout + 120
    try:
        subprocess.run(command, check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        print(f"error: locust did not stop within {limit:.0f}s", file=sys.stderr)
        return 1
    stats_file = args.out / "load_stats.csv"
    if not stats_file.exists():
        print(f"error: locust wrote no {stats_file}", file=sys.stderr)
        return 1
    stats = read_stats(stats_file)
    print()
    for name in ("produce", EVENT_TO_PREDICTION, HTTP_POST):
        if name in stats:
            print(describe(stats[name]))
    print(f"report: {args.out / 'report.html'}")
    problems = verdict(stats, args)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
