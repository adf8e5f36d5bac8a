"""`rtinfer produce`: publish generated payments to Kafka as CloudEvents."""

from __future__ import annotations

import argparse
import asyncio
import sys
from itertools import islice
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    produce = commands.add_parser(
        "produce",
        help="publish generated payments to Kafka as CloudEvents",
        description="Publish payments (from `rtinfer data generate`) as CloudEvents in binary mode "
        "(ce_ headers, key = card id) with acks=all and idempotence, at a target rate.",
    )
    produce.add_argument("--payments", type=Path, default=Path("var/data/payments.parquet"))
    produce.add_argument("--topic", default="payments")
    produce.add_argument("--bootstrap", help="default: RTINFER_KAFKA_BOOTSTRAP or 127.0.0.1:9092")
    produce.add_argument("--rate", type=float, default=1000.0, help="events per second (0: unpaced)")
    produce.add_argument("--count", type=int, help="stop after this many events")
    produce.add_argument("--duration", type=float, help="stop after this many seconds")
    produce.add_argument("--skip", type=int, default=0, help="start after this many rows")
    produce.add_argument("--mode", choices=["binary", "structured"], default="binary")
    produce.add_argument("--source", default="/rtinfer/producer")
    produce.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from events import Mode
    from rtinfer.producer.kafka import produce_records
    from rtinfer.producer.payments import payment_records
    from services.adapters.kafka.settings import KafkaSettings

    if not args.payments.exists():
        print(f"error: no payments at {args.payments}; run `rtinfer data generate` first", file=sys.stderr)
        return 2
    payments = pd.read_parquet(args.payments).iloc[args.skip :]
    total = min(len(payments), args.count) if args.count else len(payments)
    kafka = KafkaSettings(bootstrap=args.bootstrap) if args.bootstrap else KafkaSettings()
    records = islice(payment_records(payments, args.source, Mode(args.mode)), total)
    columns = [TextColumn("producing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns) as progress:
        task = progress.add_task("produce", total=total)
        summary = asyncio.run(
            produce_records(
                records,
                kafka=kafka,
                topic=args.topic,
                rate=args.rate or None,
                duration_s=args.duration,
                on_progress=lambda n: progress.advance(task, n),
            )
        )
    print(
        f"sent {summary.sent}, acknowledged {summary.acknowledged}, errors {summary.errors}, "
        f"achieved {summary.rate:.0f} events/s over {summary.seconds:.1f} s"
    )
    for sample in summary.error_samples:
        print(f"  error: {sample}", file=sys.stderr)
    return 0 if summary.errors == 0 else 1
