"""The training set: point-in-time features from Feast plus request-time features.

Each payment is joined with the feature rows as of one microsecond before it, i.e. the
state after its card's previous payment: exactly what the online store holds when the
payment is scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from feast import FeatureStore

from rtinfer.features.backfill import to_unix_seconds
from services.adapters.feast.store import historical_features
from services.fraud.features import MODEL_FEATURES, request_features_frame

JUST_BEFORE = pd.Timedelta(microseconds=1)


def point_in_time_features(store: FeatureStore, feature_service: str, payments: pd.DataFrame) -> pd.DataFrame:
    """Feature-service values for each payment as of its card's previous payment."""
    entity_df = pd.DataFrame(
        {
            "payment_id": payments["payment_id"].to_numpy(),
            "card_id": payments["card_id"].to_numpy(),
            "merchant_id": payments["merchant_id"].to_numpy(),
            "event_timestamp": (payments["timestamp"] - JUST_BEFORE).dt.as_unit("us"),
        }
    )
    joined = historical_features(store, feature_service, entity_df)
    return joined.set_index("payment_id").loc[payments["payment_id"].to_numpy()].reset_index()


def training_frame(store: FeatureStore, feature_service: str, payments: pd.DataFrame) -> pd.DataFrame:
    """Model features in MODEL_FEATURES order, plus payment_id, timestamp and is_fraud."""
    joined = point_in_time_features(store, feature_service, payments)
    request = request_features_frame(
        payments["amount"].to_numpy(np.float64),
        to_unix_seconds(payments["timestamp"]),
        list(payments["channel"]),
        joined["card_last_payment_ts"].to_numpy(np.float64),
        joined["card_mean_amount_7d"].to_numpy(np.float64),
    )
    frame = pd.DataFrame({name: request[name] for name in request})
    for name in MODEL_FEATURES:
        if name not in frame:
            frame[name] = joined[name].to_numpy(np.float64)
    frame = frame[list(MODEL_FEATURES)]
    frame.insert(0, "payment_id", payments["payment_id"].to_numpy())
    frame["timestamp"] = payments["timestamp"].to_numpy()
    frame["is_fraud"] = payments["is_fraud"].to_numpy(np.int8)
    return frame
