"""`rtinfer model train|show`: point-in-time training from Feast, and the artifact it wrote."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rtinfer.features.cli import DEFAULT_PAYMENTS, _store_options


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    model = commands.add_parser("model", help="train the model; inspect an artifact")
    actions = model.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="train LightGBM on point-in-time features from Feast; write a versioned artifact",
        description="Builds the training set with Feast get_historical_features (each payment sees the "
        "features as of its card's previous payment), splits by time, trains a deterministic LightGBM "
        "binary classifier and prints ROC AUC, PR AUC and recall at 1% FPR on the time holdout. "
        "--since and --window train on recent history only (a challenger): same join, the holdout is "
        "the last fraction of that slice, and the artifact gets its own version.",
    )
    _store_options(train)
    train.add_argument("--payments", type=Path, default=DEFAULT_PAYMENTS)
    train.add_argument("--out", type=Path, default=Path("var/model"), help="artifact directory")
    train.add_argument("--name", default="fraud", help="the artifact's model name, e.g. fraud-challenger")
    train.add_argument(
        "--since",
        type=parse_since,
        metavar="DATE",
        help="train on payments at or after this ISO date or datetime (UTC unless it has an offset)",
    )
    train.add_argument(
        "--window",
        type=parse_window,
        metavar="SPAN",
        help="with --since: payments in [since, since + SPAN); alone: the last SPAN of the history "
        "(e.g. 14d, 36h, 2w)",
    )
    train.add_argument(
        "--min-rows", type=int, default=1000, help="refuse a selected history with fewer payments"
    )
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--holdout-fraction", type=float, default=0.25)
    train.add_argument("--iterations", type=int, default=300)
    train.set_defaults(handler=_train)
    show = actions.add_parser("show", help="print an artifact's metadata")
    show.add_argument("--model-dir", type=Path, default=Path("var/model"))
    show.set_defaults(handler=_show)


_SPAN = re.compile(r"^(\d+)([wdhm])$")
_SPAN_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str) -> datetime:
    """An ISO date or datetime; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or datetime: {text!r} (e.g. 2026-01-15 or 2026-01-15T06:00:00+00:00)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_window(text: str) -> timedelta:
    """A positive span: a number and a unit, w(eeks), d(ays), h(ours) or m(inutes)."""
    match = _SPAN.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a positive span like 14d, 36h or 2w: {text!r}")
    return timedelta(**{_SPAN_UNITS[match.group(2)]: int(match.group(1))})


def _train(args: argparse.Namespace) -> int:
    import pandas as pd
    from rich.console import Console

    from rtinfer.features.cli import _apply, _settings
    from rtinfer.model.train import TrainingConfig, TrainingDataError, labelled_cases, train_from_store
    from services.adapters.feast.store import open_store

    console = Console(stderr=True)
    if not args.payments.exists():
        print(f"error: no payments at {args.payments}; run `rtinfer data generate` first", file=sys.stderr)
        return 2
    try:
        config = TrainingConfig(
            seed=args.seed,
            holdout_fraction=args.holdout_fraction,
            num_iterations=args.iterations,
            feature_service=args.feature_service,
            name=args.name,
            since=args.since,
            window=args.window,
            min_rows=args.min_rows,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if (code := _apply(args)) != 0:
        return code
    try:
        with console.status("point-in-time join and training ..."):
            payments = pd.read_parquet(args.payments)
            result = train_from_store(open_store(_settings(args)), payments, config)
    except TrainingDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = result.artifact.save(args.out)
    meta = result.artifact.metadata
    print(
        f"trained {meta.name} {meta.version} on {result.train_rows} payments, "
        f"held out {result.holdout_rows} ({int(result.holdout_labels.sum())} fraud)"
    )
    selected = meta.training_range
    if config.restricted and selected is not None:
        print(
            f"selected history {_bound(selected.since)} to {_bound(selected.until)}: "
            f"{selected.payments} payments, {selected.frauds} fraud"
        )
    print(
        f"holdout ROC AUC {meta.metrics.roc_auc:.4f}  PR AUC {meta.metrics.pr_auc:.4f}  "
        f"recall at FPR {meta.metrics.recall_at_fpr.fpr:.3f}: {meta.metrics.recall_at_fpr.recall:.4f}"
    )
    print(f"thresholds: review {meta.thresholds.review:.4f}, decline {meta.thresholds.decline:.4f}")
    if config.restricted:
        # The vector index serves the champion's neighbours: a slice must not replace its cases.
        print(f"artifact written to {path}; labelled cases not written (trained on a slice of the history)")
        return 0
    cases_path = args.payments.parent / "cases.parquet"
    labelled_cases(result.frame, payments).to_parquet(cases_path, index=False)
    print(f"artifact written to {path}; labelled cases for `rtinfer vectors index` in {cases_path}")
    return 0


def _bound(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "open"


def _show(args: argparse.Namespace) -> int:
    from services.model.artifact import ArtifactError, ModelArtifact

    try:
        artifact = ModelArtifact.load(args.model_dir)
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(artifact.metadata.model_dump(mode="json", exclude={"reference"}), indent=2))
    return 0
