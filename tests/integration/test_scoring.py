"""The scoring service, all real: Kafka, Feast on Redis, the KServe model server, Weaviate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from events import DEADLETTER, EXPLANATION, PREDICTION, Decision, Decoded, KafkaRecord, Mode, decode_kafka
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_events, payment_records
from services.adapters.kafka.settings import KafkaSettings
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings
from tests.integration.kafka_helpers import create_topics, read_all, wait_caught_up
from tests.integration.scoring_env import ScoringEnv


@contextlib.asynccontextmanager
async def running(settings: ScoringSettings, ingress: str = "kafka") -> AsyncIterator[ScoringApp]:
    service = ScoringApp(settings, ingress=ingress)  # type: ignore[arg-type]
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def _topics(settings: ScoringSettings) -> None:
    t = settings.topics
    await create_topics(settings.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)


def _malformed(count: int, template: KafkaRecord) -> list[KafkaRecord]:
    bodies = [b"{broken", b'{"amount": "x"}', b"\xff\xfe", b"[]"]
    return [
        KafkaRecord(f"card-bad-{i}".encode(), bodies[i % len(bodies)], template.headers) for i in range(count)
    ]


def _decoded(records: list) -> list:  # type: ignore[type-arg]
    out = []
    for record in records:
        result = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(result, Decoded), result
        out.append(result.event)
    return out


async def test_every_payment_scored_bad_ones_dead_lettered(env: ScoringEnv) -> None:
    settings = env.settings("main")
    await _topics(settings)
    good = list(payment_records(env.payments, "/tests/producer"))
    bad = _malformed(100, good[0])
    mixed = good[:5000] + bad + good[5000:]
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    async with running(settings):
        summary = await produce_records(mixed, kafka=kafka, topic=settings.topics.payments)
        assert summary.acknowledged == len(mixed)
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, settings.topics.payments, timeout_s=240)
        predictions = _decoded(await read_all(env.kafka.bootstrap, settings.topics.predictions, len(good)))
        letters = _decoded(await read_all(env.kafka.bootstrap, settings.topics.dlq, 100))
        flagged = [p for p in predictions if p.data.explained]
        await asyncio.sleep(1.0)
        explanations = _decoded(
            await read_all(env.kafka.bootstrap, settings.topics.explanations, len(flagged))
        )

    assert len(predictions) == len(good) == 10_000
    assert {p.type for p in predictions} == {PREDICTION}
    assert len({p.id for p in predictions}) == 10_000
    by_input = {p.data.input_id: p for p in predictions}
    assert set(by_input) == set(env.payments["payment_id"])
    for row in env.payments.itertuples():
        prediction = by_input[row.payment_id]
        assert prediction.partitionkey == row.card_id and prediction.subject == row.card_id
        assert prediction.data.entity == {"card_id": row.card_id, "merchant_id": row.merchant_id}

    names = env.artifact.feature_names
    reported = np.array(
        [
            [np.nan if p.data.features[n].value is None else p.data.features[n].value for n in names]
            for p in predictions
        ],
        dtype=np.float32,
    )
    expected = env.artifact.booster.predict(reported.astype(np.float64))
    assert np.allclose([p.data.score for p in predictions], expected, atol=1e-6)
    # neighbours_for=flagged (the default): the cases a reviewer opens carry their 5 neighbours
    reviewed = [p for p in predictions if p.data.decision is not Decision.APPROVE]
    assert reviewed and all(len(p.data.neighbours) == 5 for p in reviewed)
    assert all(p.data.neighbours == [] for p in predictions if p.data.decision is Decision.APPROVE)

    assert len(letters) == 100 and {letter.type for letter in letters} == {DEADLETTER}
    for letter in letters:
        assert letter.data.reason and letter.data.stage == "decode"
        assert letter.data.origin.topic == settings.topics.payments and letter.data.origin.offset >= 0

    assert flagged, "the planted fraud patterns should flag some payments"
    assert {e.type for e in explanations} == {EXPLANATION}
    assert {e.data.prediction_id for e in explanations} == {p.id for p in flagged}


async def test_model_server_pause_loses_nothing(env: ScoringEnv) -> None:
    import os
    import signal

    settings = env.settings("pause")
    await _topics(settings)
    records = list(payment_records(env.payments.iloc[:3000], "/tests/producer"))
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    async with running(settings):
        await produce_records(records[:1000], kafka=kafka, topic=settings.topics.payments)
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, settings.topics.payments, timeout_s=60)
        os.kill(env.server.pid, signal.SIGSTOP)  # the model server stops answering for 10 s
        try:
            await produce_records(records[1000:], kafka=kafka, topic=settings.topics.payments)
            await asyncio.sleep(10)
        finally:
            os.kill(env.server.pid, signal.SIGCONT)
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, settings.topics.payments, timeout_s=120)
        predictions = _decoded(await read_all(env.kafka.bootstrap, settings.topics.predictions, 3000))
    assert {p.data.input_id for p in predictions} == set(env.payments["payment_id"].iloc[:3000])
    by_input: dict[str, set[str]] = {}
    for p in predictions:
        by_input.setdefault(p.data.input_id, set()).add(p.id)
    assert all(len(ids) == 1 for ids in by_input.values()), "a redelivery must repeat the same id"


async def test_http_push_gives_the_same_predictions_as_kafka(env: ScoringEnv) -> None:
    from events import encode_http, encode_http_batch

    settings = env.settings("http", http_port=_free_port())
    await _topics(settings)
    subset = env.payments.iloc[:1000]
    events = list(payment_events(subset, "/tests/producer"))
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    async with running(settings, ingress="both"):
        await produce_records(
            payment_records(subset, "/tests/producer"), kafka=kafka, topic=settings.topics.payments
        )
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, settings.topics.payments, timeout_s=60)
        base = f"http://127.0.0.1:{settings.http_port}/"
        async with httpx.AsyncClient(timeout=30) as client:
            assert (await client.get(base + "healthz")).status_code == 200
            ready = await client.get(base + "readyz")
            assert ready.status_code == 200, ready.text
            for index, event in enumerate(events):
                if index % 3 == 2:
                    continue
                mode = Mode.BINARY if index % 3 == 0 else Mode.STRUCTURED
                headers, body = encode_http(event, mode)
                reply = await client.post(base, content=body, headers=headers)
                assert reply.status_code == 200, reply.text
            for start in range(2, len(events), 150):
                headers, body = encode_http_batch(events[start : start + 150 : 3])
                reply = await client.post(base, content=body, headers=headers)
                assert reply.status_code == 200, reply.text
            bad = await client.post(
                base, content=b"{nope", headers={"content-type": "application/cloudevents+json"}
            )
            assert bad.status_code == 400
        predictions = _decoded(await read_all(env.kafka.bootstrap, settings.topics.predictions, 2000))
    via: dict[str, list[tuple[str, float]]] = {}
    for p in predictions:
        via.setdefault(p.data.input_id, []).append((p.id, p.data.score))
    assert set(via) == set(subset["payment_id"])
    for pairs in via.values():
        assert len(pairs) == 2, pairs
        assert pairs[0][0] == pairs[1][0]
        assert pairs[0][1] == pytest.approx(pairs[1][1], abs=1e-9)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _shared_tmp(tmp_path: Path) -> Path:
    return tmp_path
