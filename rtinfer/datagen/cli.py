"""The `rtinfer data` command group: `rtinfer data generate` writes a synthetic payment data set."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rtinfer.datagen.config import GeneratorConfig

PROGRESS_FROM_PAYMENTS = 100_000  # show a progress bar from about this many payments
MEAN_DAILY_RATE = 1.66  # mean legitimate payments per card and day (see docs/data.md)
DRIFTS = ("amounts", "merchant-mix", "new-pattern")  # the values of config.Drift, kept import-free


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    data = commands.add_parser("data", help="synthetic card-payment data sets")
    actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate_help = "write payments, cards and merchants parquet files plus summary.json"
    action = actions.add_parser(
        "generate",
        help=generate_help,
        description=f"{generate_help}. Deterministic: the same arguments give the same bytes. "
        "About cards * days * 1.66 payments unless --payments is given.",
    )
    action.add_argument("--seed", type=int, default=42, help="root of every random draw (default 42)")
    action.add_argument("--cards", type=int, default=20_000, help="number of cards (default 20000)")
    action.add_argument("--merchants", type=int, default=2_000, help="number of merchants (default 2000)")
    action.add_argument("--days", type=int, default=30, help="length of the period in days (default 30)")
    action.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    action.add_argument(
        "--start",
        type=_parse_start,
        default=None,
        help="first day, ISO date or datetime; no offset means UTC (default 2026-01-01)",
    )
    action.add_argument(
        "--fraud-rate", type=float, default=0.01, help="target share of fraud payments (default 0.01)"
    )
    action.add_argument(
        "--payments", type=int, default=None, help="target total payments; scales every card's daily rate"
    )
    action.add_argument("--drift", choices=DRIFTS, default=None, help="drift scenario")
    action.add_argument(
        "--drift-from-day",
        type=int,
        default=None,
        help="first day (0-based) of the drift (default days // 2)",
    )
    action.add_argument("--quiet", action="store_true", help="no progress bar and no report")
    action.set_defaults(handler=_run)


def _parse_start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date or datetime: {text!r}") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    from rtinfer.datagen.config import DEFAULT_START, Drift, GeneratorConfig

    return GeneratorConfig(
        seed=args.seed,
        cards=args.cards,
        merchants=args.merchants,
        days=args.days,
        start=DEFAULT_START if args.start is None else args.start,
        fraud_rate=args.fraud_rate,
        payments=args.payments,
        drift=None if args.drift is None else Drift(args.drift),
        drift_from_day=args.drift_from_day,
    )


def _run(args: argparse.Namespace, clock: Callable[[], float] = time.perf_counter) -> int:
    # Heavy imports here, not at module level: `rtinfer --help` imports every command module.
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from rtinfer.datagen.generate import STAGES, generate
    from rtinfer.datagen.writer import SUMMARY_FILE, write_dataset

    try:
        config = config_from_args(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    expected = config.payments or round(config.cards * config.days * MEAN_DAILY_RATE)
    show = not args.quiet and expected >= PROGRESS_FROM_PAYMENTS
    started = clock()
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    ) as bar:
        task = bar.add_task("generating", total=len(STAGES) + 1)

        def advance(stage: str) -> None:
            bar.update(task, description=stage, completed=STAGES.index(stage))

        data = generate(config, progress=advance)
        bar.update(task, description="writing", completed=len(STAGES))
        written = write_dataset(data, args.out)
        bar.update(task, description="done", completed=len(STAGES) + 1)
    elapsed = clock() - started
    if not args.quiet:
        payments = data.tables.payments
        fraud = int(payments.column("is_fraud").to_numpy().sum())
        print(
            f"{payments.num_rows} payments ({fraud / max(payments.num_rows, 1):.2%} fraud), "
            f"{config.cards} cards, {config.merchants} merchants in {elapsed:.1f} s"
        )
        print(f"wrote {', '.join(sorted(written))} to {args.out} (see {SUMMARY_FILE})")
    return 0
