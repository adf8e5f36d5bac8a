"""`rtinfer features backfill|apply|materialize|online`: the Feast side of the feature repo."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from services.adapters.feast.settings import FeastSettings

DEFAULT_PAYMENTS = Path("var/data/payments.parquet")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    features = commands.add_parser(
        "features",
        help="offline backfill, feast apply, materialize, online reads",
        description="Work with rtinfer's Feast feature repo (entities card and merchant, rolling "
        "card aggregates through a PushSource, daily card and merchant profiles, FeatureService "
        "fraud_v1). Online store: SQLite (embedded default) or Redis (production).",
    )
    actions = features.add_subparsers(dest="action", required=True, metavar="ACTION")
    specs = {
        "backfill": "apply the feature definitions to the payment history; write the batch sources",
        "apply": "register the repo's objects in the registry (backfills first when sources are missing)",
        "materialize": "load the batch features into the online store (incremental, up to --end)",
        "online": "print the online features of one card and merchant",
    }
    for name, help_text in specs.items():
        action = actions.add_parser(name, help=help_text, description=help_text)
        _store_options(action)
        if name in ("backfill", "apply"):
            action.add_argument("--payments", type=Path, default=DEFAULT_PAYMENTS, help="payments parquet")
        if name == "materialize":
            action.add_argument("--end", help="ISO end time (default: now)")
        if name == "online":
            action.add_argument("--card", required=True)
            action.add_argument("--merchant", required=True)
        action.set_defaults(handler=_handlers()[name])


def _store_options(parser: argparse.ArgumentParser) -> None:
    defaults = FeastSettings()
    parser.add_argument("--online-store", choices=["sqlite", "redis"], default=defaults.online_store)
    parser.add_argument("--redis-url", default=defaults.redis_url, help="for --online-store redis")
    parser.add_argument("--repo-dir", type=Path, default=defaults.repo_dir, help="registry + SQLite store")
    parser.add_argument("--data-dir", type=Path, default=defaults.data_dir, help="batch source parquet")
    parser.add_argument("--feature-service", default=defaults.feature_service)
    parser.add_argument("--project", default=defaults.project, help="Feast project name")


def _settings(args: argparse.Namespace) -> FeastSettings:
    return FeastSettings(
        online_store=args.online_store,
        redis_url=args.redis_url,
        repo_dir=args.repo_dir,
        data_dir=args.data_dir,
        feature_service=args.feature_service,
        project=args.project,
    )


def _handlers():  # type: ignore[no-untyped-def]
    return {"backfill": _backfill, "apply": _apply, "materialize": _materialize, "online": _online}


def _backfill(args: argparse.Namespace) -> int:
    import pandas as pd
    from rich.console import Console

    from rtinfer.features.backfill import backfill

    console = Console(stderr=True)
    if not args.payments.exists():
        print(f"error: no payments at {args.payments}; run `rtinfer data generate` first", file=sys.stderr)
        return 2
    with console.status(f"backfilling features from {args.payments} ..."):
        payments = pd.read_parquet(args.payments)
        result = backfill(payments)
        written = result.write(args.data_dir)
    for name, path in written.items():
        print(f"{name}: {len(getattr(result, name))} rows -> {path}")
    return 0


def _apply(args: argparse.Namespace) -> int:
    from services.fraud.feast_repo import BATCH_FILES, apply_definitions

    missing = [name for name, file in BATCH_FILES.items() if not (args.data_dir / file).exists()]
    if missing and (code := _backfill(args)) != 0:
        return code
    store = apply_definitions(_settings(args))
    names = [view.name for view in store.list_feature_views()]
    print(
        f"applied project {store.project}: feature views {', '.join(sorted(names))}; "
        f"service {args.feature_service}; online store {args.online_store}"
    )
    return 0


def _materialize(args: argparse.Namespace) -> int:
    from services.adapters.feast.store import open_store

    end = datetime.fromisoformat(args.end) if args.end else datetime.now(UTC)
    if end.tzinfo is None:
        print("error: --end needs a time zone, e.g. 2026-01-31T00:00:00+00:00", file=sys.stderr)
        return 2
    store = open_store(_settings(args))
    if not store.list_feature_views():
        print("error: nothing applied yet; run `rtinfer features apply` first", file=sys.stderr)
        return 2
    views = store.list_feature_views()
    if any(view.materialization_intervals for view in views):
        store.materialize_incremental(end_date=end)  # Feast prints per-view progress bars
    else:
        # First run: from the earliest batch row, not end - ttl (history may be older than ttl).
        start = _earliest_event(args.data_dir)
        store.materialize(start_date=start, end_date=end)
    print(f"materialized up to {end.isoformat()} into the {args.online_store} online store")
    return 0


def _earliest_event(data_dir: Path) -> datetime:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from services.fraud.feast_repo import BATCH_FILES

    earliest = min(
        pc.min(pq.read_table(data_dir / file, columns=["event_timestamp"])["event_timestamp"]).as_py()
        for file in BATCH_FILES.values()
    )
    return earliest.astimezone(UTC)


def _online(args: argparse.Namespace) -> int:
    import asyncio

    from services.adapters.feast.store import FeastOnlineFeatures, open_store

    store = open_store(_settings(args))
    reader = FeastOnlineFeatures(store, args.feature_service)
    [row] = asyncio.run(reader.read([{"card_id": args.card, "merchant_id": args.merchant}]))
    printable = {
        name: {
            "value": feature.value,
            "event_timestamp": feature.event_timestamp.isoformat() if feature.event_timestamp else None,
        }
        for name, feature in sorted(row.items())
    }
    print(json.dumps(printable, indent=2))
    return 0
