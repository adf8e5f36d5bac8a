"""Training on a slice of history (`rtinfer model train --since/--window`): which payments are
selected, the holdout is the last fraction of the slice, the artifact gets its own version and
records the slice, and a slice that cannot train is refused with a reason.

The frame here is a stand-in for training_frame's output (same columns, a planted signal); the
path through Feast is tests/integration/test_training.py.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtinfer.cli import build_parser
from rtinfer.model.cli import parse_since, parse_window
from rtinfer.model.train import (
    TrainingConfig,
    TrainingDataError,
    history_bounds,
    select_history,
    time_split,
    train_from_frame,
)
from services.core.model_metadata import METADATA_FILE, TrainingRange
from services.fraud.features import MODEL_FEATURES
from services.model.artifact import ModelArtifact

pytestmark = pytest.mark.unit

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 30


def _frame(rows: int = 6000, seed: int = 3) -> pd.DataFrame:
    """Payments spread over DAYS days, fraud odds rising with two of the features."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, DAYS * 86400, rows))
    features = {name: rng.normal(size=rows) for name in MODEL_FEATURES}
    log_odds = -3.5 + 1.5 * features["amount"] + 1.2 * features["card_count_1h"]
    frame = pd.DataFrame({"payment_id": [f"p-{index:06d}" for index in range(rows)], **features})
    # Microseconds, as payments have (datetime has no nanoseconds).
    frame["timestamp"] = pd.Timestamp(START) + pd.to_timedelta(
        np.round(seconds * 1e6).astype(np.int64), unit="us"
    )
    frame["is_fraud"] = (rng.uniform(size=rows) < 1 / (1 + np.exp(-log_odds))).astype(np.int8)
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


def _config(**options: object) -> TrainingConfig:
    return TrainingConfig(seed=5, num_iterations=40, **options)  # type: ignore[arg-type]


def test_the_bounds_of_since_window_and_both(frame: pd.DataFrame) -> None:
    since, window = START + timedelta(days=10), timedelta(days=7)
    latest = frame["timestamp"].max().to_pydatetime()

    assert history_bounds(frame["timestamp"], _config()) == (None, None)
    assert history_bounds(frame["timestamp"], _config(since=since)) == (since, None)
    assert history_bounds(frame["timestamp"], _config(window=window)) == (latest - window, None)
    assert history_bounds(frame["timestamp"], _config(since=since, window=window)) == (since, since + window)


def test_selection_keeps_exactly_the_payments_in_the_slice(frame: pd.DataFrame) -> None:
    since, until = START + timedelta(days=10), START + timedelta(days=17)

    selected, recorded = select_history(frame, _config(since=since, window=until - since))

    inside = (frame["timestamp"] >= since) & (frame["timestamp"] < until)
    assert selected["payment_id"].tolist() == frame.loc[inside, "payment_id"].tolist()
    assert recorded == TrainingRange(
        since=since, until=until, payments=int(inside.sum()), frauds=int(frame.loc[inside, "is_fraud"].sum())
    )
    # Selecting again (payments first, then the joined frame) changes nothing.
    again, recorded_again = select_history(selected, _config(since=since, window=until - since))
    assert again["payment_id"].tolist() == selected["payment_id"].tolist() and recorded_again == recorded


def test_a_window_alone_is_the_last_span_of_the_history(frame: pd.DataFrame) -> None:
    selected, recorded = select_history(frame, _config(window=timedelta(days=5)))

    latest = frame["timestamp"].max()
    assert selected["timestamp"].max() == latest
    assert selected["timestamp"].min() >= latest - pd.Timedelta(days=5)
    assert len(selected) == int((frame["timestamp"] >= latest - pd.Timedelta(days=5)).sum())
    assert recorded.since == latest.to_pydatetime() - timedelta(days=5) and recorded.until is None


def test_training_on_recent_history_holds_out_the_end_of_that_slice(frame: pd.DataFrame) -> None:
    since = START + timedelta(days=12)
    config = _config(since=since, name="fraud-challenger")

    result = train_from_frame(frame, config)

    metadata = result.artifact.metadata
    selected = frame[frame["timestamp"] >= since]
    assert metadata.name == "fraud-challenger"
    assert result.train_rows + result.holdout_rows == len(selected) == len(result.frame)
    assert metadata.training_window.start >= since
    train, holdout, _cutoff = time_split(selected, config.holdout_fraction)
    assert metadata.training_window.start == train["timestamp"].min().to_pydatetime()
    assert metadata.holdout_window.start == holdout["timestamp"].min().to_pydatetime()
    assert metadata.holdout_window.end == frame["timestamp"].max().to_pydatetime()
    assert metadata.training_range == TrainingRange(
        since=since, until=None, payments=len(selected), frauds=int(selected["is_fraud"].sum())
    )


def test_the_version_follows_the_training_data(frame: pd.DataFrame) -> None:
    full = train_from_frame(frame, _config())
    recent = train_from_frame(frame, _config(since=START + timedelta(days=12)))
    recent_again = train_from_frame(frame, _config(since=START + timedelta(days=12)))
    later = train_from_frame(frame, _config(since=START + timedelta(days=13)))
    # The same slice as another spelling (a window from the same start) is the same data.
    same_slice = train_from_frame(
        frame, _config(window=frame["timestamp"].max() - pd.Timestamp(START + timedelta(days=12)))
    )

    versions = [result.artifact.version for result in (full, recent, later)]
    assert len(set(versions)) == 3, versions
    assert recent_again.artifact.version == recent.artifact.version
    assert same_slice.frame["payment_id"].tolist() == recent.frame["payment_id"].tolist()
    assert all(version.startswith("fraud_v1-") for version in versions)
    assert full.artifact.metadata.training_range == TrainingRange(
        payments=len(frame), frauds=int(frame["is_fraud"].sum())
    )


def test_too_few_payments_are_refused_with_the_slice_named(frame: pd.DataFrame) -> None:
    since = START + timedelta(days=29, hours=12)

    with pytest.raises(TrainingDataError) as caught:
        train_from_frame(frame, _config(since=since))

    message = str(caught.value)
    assert message.startswith(f"the history from {since.isoformat()} to the end has ")
    assert "payments; at least 1000 are needed (an earlier --since or a longer --window)" in message


def test_a_slice_without_fraud_is_refused(frame: pd.DataFrame) -> None:
    legit = frame.assign(
        is_fraud=np.where(frame["timestamp"] >= pd.Timestamp(START + timedelta(days=20)), 0, 1)
    )

    with pytest.raises(TrainingDataError, match="has no fraud cases; a model needs some"):
        train_from_frame(legit, _config(since=START + timedelta(days=20)))
    # Fraud only in the earlier part of the slice: the holdout (its last quarter) has none.
    with pytest.raises(TrainingDataError, match=r"no fraud cases in its holdout \(the last 25%\)"):
        train_from_frame(legit, _config(since=START + timedelta(days=15)))


def test_the_recorded_range_survives_save_and_load(frame: pd.DataFrame, tmp_path: Path) -> None:
    result = train_from_frame(frame, _config(since=START + timedelta(days=12), window=timedelta(days=10)))

    loaded = ModelArtifact.load(result.artifact.save(tmp_path / "challenger"))

    assert loaded.metadata.training_range == result.artifact.metadata.training_range
    assert loaded.metadata.training_range is not None
    assert loaded.metadata.training_range.until == START + timedelta(days=22)


def test_artifacts_without_a_range_load_and_keep_their_shape(frame: pd.DataFrame, tmp_path: Path) -> None:
    result = train_from_frame(frame, _config())
    older = result.artifact.metadata.model_copy(update={"training_range": None})
    artifact = ModelArtifact(booster=result.artifact.booster, metadata=older)

    directory = artifact.save(tmp_path / "older")

    assert "training_range" not in json.loads((directory / METADATA_FILE).read_text())
    assert ModelArtifact.load(directory).metadata.training_range is None


def test_since_and_window_flags_parse_to_utc_and_spans() -> None:
    assert parse_since("2026-01-15") == datetime(2026, 1, 15, tzinfo=UTC)
    assert parse_since("2026-01-15T06:30:00") == datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    assert parse_since("2026-01-15T06:30:00+02:00") == datetime(2026, 1, 15, 4, 30, tzinfo=UTC)
    assert parse_window("14d") == timedelta(days=14)
    assert parse_window("36h") == timedelta(hours=36)
    assert parse_window("2w") == timedelta(weeks=2)
    for bad in ("yesterday", "2026-13-01"):
        with pytest.raises(argparse.ArgumentTypeError, match="not an ISO date or datetime"):
            parse_since(bad)
    for bad in ("14", "0d", "-3d", "1y"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a positive span"):
            parse_window(bad)


def test_the_train_command_takes_since_window_and_name() -> None:
    args = build_parser().parse_args(
        ["model", "train", "--since", "2026-01-15", "--window", "14d", "--name", "fraud-challenger"]
    )

    assert (args.since, args.window, args.name) == (
        datetime(2026, 1, 15, tzinfo=UTC),
        timedelta(days=14),
        "fraud-challenger",
    )
    defaults = build_parser().parse_args(["model", "train"])
    assert (defaults.since, defaults.window, defaults.name, defaults.min_rows) == (None, None, "fraud", 1000)
