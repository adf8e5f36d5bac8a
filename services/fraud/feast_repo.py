"""The fraud use case's Feast repo: entities, sources, feature views, service, and applying them.

Built by a function (not at import) so the data folder comes from settings; the committed
repo in services/fraud/repo calls it for `feast apply` run by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, PushSource
from feast.types import Float64
from feast.value_type import ValueType

from services.adapters.feast.settings import FeastSettings
from services.adapters.feast.store import open_store
from services.fraud.features import CARD_PROFILE_FEATURES, MERCHANT_PROFILE_FEATURES, ROLLING_FEATURES

CARD_ROLLING_PUSH = "card_rolling_push"
FEATURE_SERVICE = "fraud_v1"
BATCH_FILES = {
    "card_rolling": "card_rolling.parquet",
    "card_profile": "card_profile.parquet",
    "merchant_profile": "merchant_profile.parquet",
}


@dataclass(frozen=True)
class FraudFeatureRepo:
    card: Entity
    merchant: Entity
    card_rolling: FeatureView
    card_profile: FeatureView
    merchant_profile: FeatureView
    push_source: PushSource
    service: FeatureService

    def objects(self) -> list[object]:
        return [
            self.card,
            self.merchant,
            self.push_source,
            self.card_rolling,
            self.card_profile,
            self.merchant_profile,
            self.service,
        ]


def _file_source(name: str, data_dir: Path) -> FileSource:
    return FileSource(
        name=f"{name}_batch",
        path=str((data_dir / BATCH_FILES[name]).resolve()),
        timestamp_field="event_timestamp",
        created_timestamp_column="created",
    )


def build_repo(
    data_dir: Path,
    *,
    service_name: str = FEATURE_SERVICE,
    rolling_ttl: timedelta = timedelta(days=30),
    profile_ttl: timedelta = timedelta(days=8),
) -> FraudFeatureRepo:
    """The repo's objects, reading batch sources from `data_dir`.

    Args:
        rolling_ttl: how far back the point-in-time join looks for a rolling row; rows
            describe the card's previous payment, which can be old for quiet cards.
        profile_ttl: the same for daily profiles (a week of missed snapshots at most).
    """
    card = Entity(name="card", join_keys=["card_id"], value_type=ValueType.STRING)
    merchant = Entity(name="merchant", join_keys=["merchant_id"], value_type=ValueType.STRING)
    push_source = PushSource(name=CARD_ROLLING_PUSH, batch_source=_file_source("card_rolling", data_dir))
    card_rolling = FeatureView(
        name="card_rolling",
        entities=[card],
        ttl=rolling_ttl,
        schema=[Field(name=name, dtype=Float64) for name in ROLLING_FEATURES],
        source=push_source,
        online=True,
        tags={"kind": "stream", "writer": "services.features"},
    )
    card_profile = FeatureView(
        name="card_profile",
        entities=[card],
        ttl=profile_ttl,
        schema=[Field(name=name, dtype=Float64) for name in CARD_PROFILE_FEATURES],
        source=_file_source("card_profile", data_dir),
        online=True,
        tags={"kind": "batch"},
    )
    merchant_profile = FeatureView(
        name="merchant_profile",
        entities=[merchant],
        ttl=profile_ttl,
        schema=[Field(name=name, dtype=Float64) for name in MERCHANT_PROFILE_FEATURES],
        source=_file_source("merchant_profile", data_dir),
        online=True,
        tags={"kind": "batch"},
    )
    service = FeatureService(
        name=service_name,
        features=[card_rolling, card_profile, merchant_profile],
        tags={"model": "fraud"},
    )
    return FraudFeatureRepo(
        card, merchant, card_rolling, card_profile, merchant_profile, push_source, service
    )


def apply_definitions(settings: FeastSettings) -> FeatureStore:
    """Register the fraud repo's objects (what `feast apply` does) and return the store."""
    store = open_store(settings)
    store.apply(build_repo(settings.data_dir, service_name=settings.feature_service).objects())  # type: ignore[arg-type]
    return store
