"""Building a Feast FeatureStore from settings; apply, materialize, online reads, pushes."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from feast import FeatureStore, RepoConfig
from feast.data_source import PushMode
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.type_map import python_values_to_proto_values
from redis.exceptions import RedisError

from services.adapters.feast.settings import FeastSettings
from services.core.errors import DependencyUnavailable
from services.core.ports import StoredFeature


def registry_file(settings: FeastSettings) -> str:
    """The registry's file name in the repo dir: one per online store, because Feast records
    what was materialized (and up to when) in the registry. With one registry for both, an
    incremental materialize into Redis after one into SQLite would load nothing."""
    return "registry.db" if settings.online_store == "redis" else "registry-sqlite.db"


def repo_config(settings: FeastSettings) -> RepoConfig:
    repo_dir = settings.repo_dir.resolve()
    online: dict[str, Any]
    if settings.online_store == "redis":
        online = {
            "type": "redis",
            "connection_string": settings.redis_connection_string(),
            "skip_dedup": True,  # one writer per card (Kafka key) pushes whole rows: last write wins
        }
    else:
        online = {"type": "sqlite", "path": str(repo_dir / "online.db")}
    return RepoConfig(
        project=settings.project,
        provider="local",
        registry=str(repo_dir / registry_file(settings)),
        online_store=online,
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
        repo_path=repo_dir,
    )


def open_store(settings: FeastSettings) -> FeatureStore:
    settings.repo_dir.mkdir(parents=True, exist_ok=True)
    return FeatureStore(config=repo_config(settings))


class FeastOnlineFeatures:
    """Online reads of a FeatureService: values with the timestamps they were written at."""

    def __init__(self, store: FeatureStore, feature_service: str, *, direct: bool = True) -> None:
        """Args:
        direct: read each feature view through the provider's `online_read_async` (Feast's
            keys, serialization and Redis layout) and turn its values into our rows in one
            pass, instead of `get_online_features_async`, which builds a protobuf response and
            converts it to Python per row and feature (Redis only; same results).
        """
        self._store = store
        self._service = store.get_feature_service(feature_service)
        self._async = store.config.online_store.type == "redis"
        self._views: list[tuple[Any, list[str], list[tuple[str, Any]]]] = []
        if self._async and direct:
            for projection in self._service.feature_view_projections:
                view = store.get_feature_view(projection.name)
                join = [(column.name, column.dtype.to_value_type()) for column in view.entity_columns]
                self._views.append((view, [feature.name for feature in projection.features], join))

    async def close(self) -> None:
        """Release the online store's async connections (Redis)."""
        await self._store.close()

    async def read(self, entity_rows: list[dict[str, str]]) -> list[dict[str, StoredFeature]]:
        """One call for the whole batch; a row per entity row, in order."""
        try:
            if self._views:
                return await self._read_views(entity_rows)
            if self._async:
                response = await self._store.get_online_features_async(
                    features=self._service,
                    entity_rows=entity_rows,  # type: ignore[arg-type]
                )
            else:
                response = await asyncio.to_thread(
                    self._store.get_online_features,
                    features=self._service,
                    entity_rows=entity_rows,  # type: ignore[arg-type]
                )
            table = response.to_dict(include_event_timestamps=True)
        except (ConnectionError, OSError, TimeoutError, RedisError) as error:
            raise DependencyUnavailable("feast", f"online read failed: {error}") from error
        return _rows(table, len(entity_rows), frozenset(entity_rows[0]) if entity_rows else frozenset())

    async def _read_views(self, entity_rows: list[dict[str, str]]) -> list[dict[str, StoredFeature]]:
        provider, config = self._store.provider, self._store.config

        async def read_view(view: Any, names: list[str], join: list[tuple[str, Any]]) -> list[Any]:
            keys = [
                EntityKeyProto(
                    join_keys=[name for name, _ in join],
                    entity_values=[
                        python_values_to_proto_values([row[name]], kind)[0] for name, kind in join
                    ],
                )
                for row in entity_rows
            ]
            # (the Redis store appends its timestamp key to the list it is given: a copy)
            return list(await provider.online_read_async(config, view, keys, list(names)))

        read = await asyncio.gather(*(read_view(view, names, join) for view, names, join in self._views))
        rows: list[dict[str, StoredFeature]] = [{} for _ in entity_rows]
        for (_view, names, _join), found in zip(self._views, read, strict=True):
            for row, (stamp, values) in zip(rows, found, strict=True):
                # Feast's online response keeps whole seconds of the view's timestamp: so do we.
                seconds = int(stamp.timestamp()) if stamp is not None else 0
                written = datetime.fromtimestamp(seconds, tz=UTC) if seconds else None
                for name in names:
                    value = _number(values.get(name)) if values else None
                    row[name] = StoredFeature(value, written if value is not None else None)
        return rows


def _number(proto: Any) -> float | None:
    """A ValueProto's number, None when unset, null or NaN."""
    if proto is None:
        return None
    kind = proto.WhichOneof("val")
    if kind is None or kind == "null_val":
        return None
    value = float(getattr(proto, kind))
    return None if math.isnan(value) else value


def _rows(
    table: dict[str, list[Any]], count: int, join_keys: frozenset[str]
) -> list[dict[str, StoredFeature]]:
    names = [
        name
        for name in table
        if name not in join_keys and not name.endswith("__ts") and f"{name}__ts" in table
    ]
    rows: list[dict[str, StoredFeature]] = []
    for index in range(count):
        row = {}
        for name in names:
            value = table[name][index]
            seconds = table[f"{name}__ts"][index]
            valid = value is not None and not (isinstance(value, float) and math.isnan(value))
            stamp = datetime.fromtimestamp(seconds, tz=UTC) if seconds else None
            row[name] = StoredFeature(float(value) if valid else None, stamp if valid else None)
        rows.append(row)
    return rows


class FeastPusher:
    """Writes rolling rows to the online store through the repo's PushSource."""

    def __init__(self, store: FeatureStore, push_source: str) -> None:
        self._store = store
        self._push_source = push_source
        self._async = store.config.online_store.type == "redis"

    async def push(self, rows: pd.DataFrame) -> None:
        try:
            if self._async:
                await self._store.push_async(self._push_source, rows, to=PushMode.ONLINE)
            else:
                await asyncio.to_thread(self._store.push, self._push_source, rows, to=PushMode.ONLINE)
        except (ConnectionError, OSError, TimeoutError, RedisError) as error:
            raise DependencyUnavailable("feast", f"push failed: {error}") from error


def historical_features(store: FeatureStore, feature_service: str, entity_df: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time join of the service's features onto `entity_df` (a unique payment_id,
    card_id, merchant_id, event_timestamp); each row gets the latest feature rows at or
    before its timestamp, and null where a view has none.

    Feast's file offline store drops entity rows that match no row of some view (an inner
    join in effect), so the join runs per view and is left-merged here.
    """
    service = store.get_feature_service(feature_service)
    result = entity_df.copy()
    for projection in service.feature_view_projections:
        features = [f"{projection.name}:{feature.name}" for feature in projection.features]
        joined = store.get_historical_features(entity_df=entity_df, features=features).to_df()
        columns = ["payment_id", *(feature.name for feature in projection.features)]
        result = result.merge(joined[columns], on="payment_id", how="left")
    return result
