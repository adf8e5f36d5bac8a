"""`rtinfer model train|show`: point-in-time training from Feast, and the artifact it wrote."""

from __future__ import annotations

import argparse
import json
import sys
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
        "binary classifier and prints ROC AUC, PR AUC and recall at 1% FPR on the time holdout.",
    )
    _store_options(train)
    train.add_argument("--payments", type=Path, default=DEFAULT_PAYMENTS)
    train.add_argument("--out", type=Path, default=Path("var/model"), help="artifact directory")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--holdout-fraction", type=float, default=0.25)
    train.add_argument("--iterations", type=int, default=300)
    train.set_defaults(handler=_train)
    show = actions.add_parser("show", help="print an artifact's metadata")
    show.add_argument("--model-dir", type=Path, default=Path("var/model"))
    show.set_defaults(handler=_show)


def _train(args: argparse.Namespace) -> int:
    import pandas as pd
    from rich.console import Console

    from rtinfer.features.cli import _apply, _settings
    from rtinfer.model.train import TrainingConfig, train_from_store
    from services.adapters.feast.store import open_store

    console = Console(stderr=True)
    if not args.payments.exists():
        print(f"error: no payments at {args.payments}; run `rtinfer data generate` first", file=sys.stderr)
        return 2
    if (code := _apply(args)) != 0:
        return code
    config = TrainingConfig(
        seed=args.seed,
        holdout_fraction=args.holdout_fraction,
        num_iterations=args.iterations,
        feature_service=args.feature_service,
    )
    with console.status("point-in-time join and training ..."):
        payments = pd.read_parquet(args.payments)
        result = train_from_store(open_store(_settings(args)), payments, config)
    path = result.artifact.save(args.out)
    from rtinfer.model.train import labelled_cases

    cases_path = args.payments.parent / "cases.parquet"
    labelled_cases(result.frame, payments).to_parquet(cases_path, index=False)
    meta = result.artifact.metadata
    print(
        f"trained {meta.name} {meta.version} on {result.train_rows} payments, "
        f"held out {result.holdout_rows} ({int(result.holdout_labels.sum())} fraud)"
    )
    print(
        f"holdout ROC AUC {meta.metrics.roc_auc:.4f}  PR AUC {meta.metrics.pr_auc:.4f}  "
        f"recall at FPR {meta.metrics.recall_at_fpr.fpr:.3f}: {meta.metrics.recall_at_fpr.recall:.4f}"
    )
    print(f"thresholds: review {meta.thresholds.review:.4f}, decline {meta.thresholds.decline:.4f}")
    print(f"artifact written to {path}; labelled cases for `rtinfer vectors index` in {cases_path}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from services.model.artifact import ArtifactError, ModelArtifact

    try:
        artifact = ModelArtifact.load(args.model_dir)
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(artifact.metadata.model_dump(mode="json", exclude={"reference"}), indent=2))
    return 0
