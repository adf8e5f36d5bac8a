"""Faults of the broker itself, against a dedicated one this module starts (tests/chaos/broker.py):
Kafka stopped and started again under a running scoring process (T7), a wrong SASL password and
the right one over TLS (T9), and the door: the TLS listener lets in whoever trusts its CA."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from services.scoring.settings import ScoringSettings
from tests.chaos.audit import Audit, audit
from tests.chaos.broker import DedicatedBroker, dedicated_broker, grown, topic_size
from tests.chaos.streams import stop, tail
from tests.integration.kafka_helpers import create_topics, read_to_end, wait_caught_up
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring

STOPPED_FOR_S = 10.0
EXIT_BOUND_S = 60.0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DedicatedBroker]:
    with dedicated_broker(tmp_path_factory.mktemp("broker")) as started:
        yield started


async def _scenario_topics(broker: DedicatedBroker, settings: ScoringSettings) -> None:
    t = settings.topics
    await create_topics(broker.plaintext, t.payments, t.predictions, t.explanations, t.dlq)


async def _caught_up(
    broker: DedicatedBroker,
    settings: ScoringSettings,
    timeout_s: float,
    process: subprocess.Popen[bytes],
    log: Path,
) -> None:
    """The scoring group committed everything on its payments topic (with the log when not)."""
    try:
        await wait_caught_up(
            broker.plaintext, settings.group_id, settings.topics.payments, timeout_s=timeout_s
        )
    except AssertionError as error:
        raise AssertionError(f"{error}; scoring log: {tail(log)}") from None
    assert process.poll() is None, f"the scoring process died: {tail(log)}"


async def _audit(broker: DedicatedBroker, settings: ScoringSettings, inputs: set[str]) -> Audit:
    """Both output topics read to their end (over PLAINTEXT, whatever the service used)."""
    t = settings.topics
    predicted = await read_to_end(broker.plaintext, t.predictions)
    dead = await read_to_end(broker.plaintext, t.dlq)
    return audit(inputs, predicted, dead)


async def test_door_sasl_ssl_needs_the_ca(broker: DedicatedBroker, caplog: pytest.LogCaptureFixture) -> None:
    """With ssl_cafile the TLS listener takes a record and gives it back; without, it is refused."""
    kafka = broker.kafka("SASL_SSL")
    topic = f"door-{uuid.uuid4().hex[:8]}"
    await create_topics(broker.plaintext, topic, partitions=1)
    producer = AIOKafkaProducer(**kafka.producer_kwargs())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"through the door", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_kwargs(), auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    assert record.value == b"through the door"

    stranger = AIOKafkaProducer(**broker.kafka("SASL_SSL", trust_ca=False).producer_kwargs())
    caplog.set_level(logging.ERROR, logger="aiokafka")
    try:
        with pytest.raises(KafkaConnectionError):
            await stranger.start()
    finally:
        await stranger.stop()
    refusals = [r.getMessage() for r in caplog.records if r.name.startswith("aiokafka")]
    assert any("CERTIFICATE_VERIFY_FAILED" in message for message in refusals), refusals


async def test_t9_wrong_sasl_password_exits_clearly_without_secrets(
    env: ScoringEnv, broker: DedicatedBroker, tmp_path: Path, chaos_report: Callable[..., None]
) -> None:
    wrong = f"wrong-{secrets.token_urlsafe(12)}"
    settings = env.settings("t9-wrong", kafka=broker.kafka("SASL_PLAINTEXT", password=wrong))
    log = tmp_path / "scoring.log"
    started = time.monotonic()
    process = start_scoring(settings, log)
    try:
        code = await asyncio.to_thread(process.wait, EXIT_BOUND_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {EXIT_BOUND_S:.0f}s after a refused login: {tail(log)}")
    finally:
        stop(process)
    exit_s = time.monotonic() - started
    output = log.read_text(errors="replace")
    chaos_report(exit_code=code, exit_s=round(exit_s, 1))
    assert code == 2, output  # a start-up error: one line, no traceback
    assert "error: cannot connect to Kafka at" in output and "Traceback" not in output, output
    assert re.search(r"authentication failed", output, re.IGNORECASE), output
    assert "SCRAM-SHA-512" in output, output
    assert wrong not in output
    assert broker.password.get_secret_value() not in output


async def test_t9_right_credentials_over_sasl_ssl_score_everything(
    env: ScoringEnv, broker: DedicatedBroker, tmp_path: Path, chaos_report: Callable[..., None]
) -> None:
    kafka = broker.kafka("SASL_SSL")
    settings = env.settings("t9-tls", kafka=kafka, max_records=100)
    await _scenario_topics(broker, settings)
    count = 400
    payments = env.payments.iloc[:count]
    await produce_records(payment_records(payments, "/chaos/t9"), kafka=kafka, topic=settings.topics.payments)
    log = tmp_path / "scoring.log"
    process = start_scoring(settings, log)
    try:
        await _caught_up(broker, settings, 120, process, log)
    finally:
        stop(process)
    result = await _audit(broker, settings, set(payments["payment_id"]))
    chaos_report(**result.figures(), listener="SASL_SSL")
    assert result.lost == set()
    assert len(set(result.predicted) & result.inputs) == count
    assert broker.password.get_secret_value() not in log.read_text(errors="replace")


async def test_t7_kafka_stopped_and_restarted_mid_stream(
    env: ScoringEnv, broker: DedicatedBroker, tmp_path: Path, chaos_report: Callable[..., None]
) -> None:
    settings = env.settings("t7", kafka=KafkaSettings(bootstrap=broker.plaintext), max_records=100)
    t = settings.topics
    await _scenario_topics(broker, settings)
    count = 5000
    payments = env.payments.iloc[:count]
    await produce_records(payment_records(payments, "/chaos/t7"), kafka=broker.kafka(), topic=t.payments)
    log = tmp_path / "scoring.log"
    process = start_scoring(settings, log)
    figures: dict[str, Any] = {}
    try:
        await grown(broker.plaintext, t.predictions, 1000, process, log)
        stopping = time.monotonic()
        figures["at_stop"] = await topic_size(broker.plaintext, t.predictions)
        await asyncio.to_thread(broker.stop)
        figures["stop_s"] = round(time.monotonic() - stopping, 1)
        await asyncio.sleep(STOPPED_FOR_S)
        await asyncio.to_thread(broker.start)
        back = time.monotonic()
        figures["downtime_s"] = round(back - stopping, 1)
        assert process.poll() is None, f"the scoring process died with the broker: {tail(log)}"
        await _caught_up(broker, settings, 150, process, log)
        figures["recovery_s"] = round(time.monotonic() - back, 1)
    finally:
        stop(process)
    result = await _audit(broker, settings, set(payments["payment_id"]))
    chaos_report(**result.figures(), **figures)
    assert figures["at_stop"] < count, "the broker must stop mid-stream, not after the last prediction"
    assert result.lost == set()
    assert result.unstable_ids == set(), "a redelivered input must keep its prediction id"
