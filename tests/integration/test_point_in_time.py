"""Feast point-in-time joins give each payment the state after its card's previous payment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtinfer.features.backfill import backfill, to_unix_seconds
from rtinfer.features.training_set import point_in_time_features, training_frame
from services.adapters.feast.settings import FeastSettings
from services.fraud.feast_repo import apply_definitions
from services.fraud.features import ROLLING_FEATURES
from tests.integration.datasets import generated_payments
from tests.servers import RedisEndpoint


def test_historical_features_are_as_of_previous_payment(
    redis_server: RedisEndpoint, unique_name: str, tmp_path: Path
) -> None:
    payments = generated_payments(3000)
    settings = FeastSettings(
        online_store="redis",
        redis_url=redis_server.url,
        project=unique_name.replace("-", "_"),
        repo_dir=tmp_path / "feast",
        data_dir=tmp_path / "features",
    )
    offline = backfill(payments)
    offline.write(settings.data_dir)
    store = apply_definitions(settings)
    sample = payments.sample(500, random_state=3).sort_values("timestamp")

    joined = point_in_time_features(store, settings.feature_service, sample)

    ordered = payments.sort_values(["card_id", "timestamp", "payment_id"])
    previous = ordered.groupby("card_id")["payment_id"].shift(1)
    previous_of = dict(zip(ordered["payment_id"], previous, strict=True))
    rolling = offline.card_rolling.set_index("payment_id")
    sample_times = to_unix_seconds(sample["timestamp"])
    checked_first = checked_later = 0
    for row, payment_time in zip(joined.itertuples(index=False), sample_times, strict=True):
        prior = previous_of[row.payment_id]
        if pd.isna(prior):
            assert np.isnan(row.card_count_24h), f"{row.payment_id}: first payment must see no rolling row"
            checked_first += 1
            continue
        expected = rolling.loc[prior]
        for name in ROLLING_FEATURES:
            assert getattr(row, name) == expected[name], f"{row.payment_id}.{name}"
        # Never a later row: the row's own timestamp is strictly before the payment.
        assert row.card_last_payment_ts < payment_time
        checked_later += 1
    assert checked_later > 300 and checked_first > 0


def test_training_frame_has_model_features_and_labels(
    redis_server: RedisEndpoint, unique_name: str, tmp_path: Path
) -> None:
    payments = generated_payments(2000)
    settings = FeastSettings(
        online_store="redis",
        redis_url=redis_server.url,
        project=unique_name.replace("-", "_"),
        repo_dir=tmp_path / "feast",
        data_dir=tmp_path / "features",
    )
    backfill(payments).write(settings.data_dir)
    store = apply_definitions(settings)
    frame = training_frame(store, settings.feature_service, payments)
    assert len(frame) == len(payments)
    assert frame["payment_id"].tolist() == payments["payment_id"].tolist()
    assert frame["is_fraud"].sum() == payments["is_fraud"].sum()
    seen = frame.dropna(subset=["seconds_since_prev"])
    assert (seen["seconds_since_prev"] > 0).all()
