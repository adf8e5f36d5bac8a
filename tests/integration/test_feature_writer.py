"""The streaming feature writer against real Kafka and a Redis-backed Feast.

Online rolling features after the writer caught up equal the offline backfill at the same
cut-off (each card's last payment); replaying events changes nothing; bad events go to
the DLQ and are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis.asyncio as aioredis

from events import DEADLETTER, Decoded, decode_kafka
from rtinfer.features.backfill import backfill
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.feast.settings import FeastSettings
from services.adapters.feast.store import FeastOnlineFeatures
from services.adapters.kafka.settings import KafkaSettings
from services.features.app import FeatureWriterApp
from services.features.settings import FeatureWriterSettings
from services.fraud.feast_repo import apply_definitions
from services.fraud.features import ROLLING_FEATURES
from tests.integration.datasets import generated_payments
from tests.integration.kafka_helpers import create_topics, read_all, wait_caught_up
from tests.servers import KafkaEndpoint, RedisEndpoint

TOLERANCE = 1e-6


@contextlib.asynccontextmanager
async def running_writer(settings: FeatureWriterSettings) -> AsyncIterator[None]:
    app = FeatureWriterApp(settings)
    await app.start()
    try:
        yield
    finally:
        await asyncio.wait_for(app.stop(), timeout=30)


def _settings(kafka: KafkaEndpoint, redis_url: str, name: str, tmp_path: Path) -> FeatureWriterSettings:
    return FeatureWriterSettings(
        kafka=KafkaSettings(bootstrap=kafka.bootstrap),
        feast=FeastSettings(
            online_store="redis",
            redis_url=redis_url,
            project=name.replace("-", "_"),
            repo_dir=tmp_path / "feast",
            data_dir=tmp_path / "features",
        ),
        state_redis_url=redis_url,
        state_prefix=name,
        payments_topic=f"{name}-payments",
        dlq_topic=f"{name}-dlq",
        group_id=f"{name}-writer",
    )


async def test_online_equals_offline_and_replay_changes_nothing(
    kafka: KafkaEndpoint, redis_server: RedisEndpoint, unique_name: str, tmp_path: Path
) -> None:
    payments = generated_payments(10_000)
    settings = _settings(kafka, redis_server.url, unique_name, tmp_path)
    offline = backfill(payments)
    offline.write(settings.feast.data_dir)
    store = apply_definitions(settings.feast)
    await create_topics(kafka.bootstrap, settings.payments_topic, settings.dlq_topic)

    kafka_settings = KafkaSettings(bootstrap=kafka.bootstrap)
    summary = await produce_records(
        payment_records(payments, "/tests/features"), kafka=kafka_settings, topic=settings.payments_topic
    )
    assert summary.acknowledged == len(payments) and summary.errors == 0

    reader = FeastOnlineFeatures(store, settings.feast.feature_service)
    async with running_writer(settings):
        await wait_caught_up(kafka.bootstrap, settings.group_id, settings.payments_topic)
        before = await _online_rolling(reader, payments)
        _assert_matches_offline(before, offline.card_rolling)

        replay = payments.iloc[:1000]
        await produce_records(
            payment_records(replay, "/tests/features"), kafka=kafka_settings, topic=settings.payments_topic
        )
        await wait_caught_up(kafka.bootstrap, settings.group_id, settings.payments_topic)
        after = await _online_rolling(reader, payments)
    pd.testing.assert_frame_equal(before, after)


async def test_bad_events_go_to_dlq_and_count_nowhere(
    kafka: KafkaEndpoint, redis_server: RedisEndpoint, unique_name: str, tmp_path: Path
) -> None:
    payments = generated_payments(200)
    settings = _settings(kafka, redis_server.url, unique_name, tmp_path)
    backfill(payments).write(settings.feast.data_dir)
    store = apply_definitions(settings.feast)
    await create_topics(kafka.bootstrap, settings.payments_topic, settings.dlq_topic)
    records = list(payment_records(payments, "/tests/features"))
    card = payments["card_id"].iloc[0]
    bad = [
        records[0].__class__(card.encode(), b"{not json", records[0].headers),
        records[0].__class__(card.encode(), b'{"amount": -5}', records[0].headers),
    ]
    kafka_settings = KafkaSettings(bootstrap=kafka.bootstrap)
    await produce_records(records + bad, kafka=kafka_settings, topic=settings.payments_topic)
    async with running_writer(settings):
        await wait_caught_up(kafka.bootstrap, settings.group_id, settings.payments_topic)
        online = await _online_rolling(FeastOnlineFeatures(store, settings.feast.feature_service), payments)
    _assert_matches_offline(online, backfill(payments).card_rolling)
    letters = await read_all(kafka.bootstrap, settings.dlq_topic, expected=2)
    decoded = [decode_kafka(r.key, r.value, r.headers) for r in letters]
    assert len(decoded) == 2
    assert all(isinstance(d, Decoded) and d.event.type == DEADLETTER for d in decoded)
    reasons = sorted(d.event.data.reason for d in decoded if isinstance(d, Decoded))
    assert reasons == ["bad_json", "invalid_payload"]
    for d in decoded:
        assert isinstance(d, Decoded)
        assert d.event.data.origin.topic == settings.payments_topic
        assert d.event.data.stage == "decode"


async def _online_rolling(reader: FeastOnlineFeatures, payments: pd.DataFrame) -> pd.DataFrame:
    cards = sorted(payments["card_id"].unique())
    rows = await reader.read([{"card_id": card, "merchant_id": "-"} for card in cards])
    table = {name: [row[name].value for row in rows] for name in ROLLING_FEATURES}
    return pd.DataFrame(table, index=pd.Index(cards, name="card_id"), dtype="float64")


def _assert_matches_offline(online: pd.DataFrame, card_rolling: pd.DataFrame) -> None:
    last = card_rolling.sort_values(["card_id", "event_timestamp", "payment_id"]).groupby("card_id").tail(1)
    expected = last.set_index("card_id").loc[online.index, list(ROLLING_FEATURES)].astype("float64")
    assert not online.isna().any().any(), "some card has no online row"
    difference = np.abs(online.to_numpy() - expected.to_numpy())
    mismatches = int((difference > TOLERANCE * np.maximum(1.0, np.abs(expected.to_numpy()))).sum())
    assert mismatches == 0, f"{mismatches} online values differ from the offline backfill"


@pytest.fixture(autouse=True)
async def _clean_state(redis_server: RedisEndpoint, unique_name: str) -> AsyncIterator[None]:
    yield
    client = aioredis.from_url(redis_server.url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{unique_name}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
