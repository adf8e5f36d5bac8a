"""A scoring consumer SIGKILLed mid-stream loses nothing once restarted."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from events import Decoded, decode_kafka
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from tests.integration.kafka_helpers import create_topics, read_all, read_to_end, wait_caught_up
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring

ROOT = Path(__file__).resolve().parents[2]


async def test_sigkill_mid_stream_then_restart(env: ScoringEnv, tmp_path: Path) -> None:
    settings = env.settings("crash", max_records=100)
    t = settings.topics
    await create_topics(env.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)
    records = list(payment_records(env.payments.iloc[:5000], "/tests/producer"))
    await produce_records(records, kafka=KafkaSettings(bootstrap=env.kafka.bootstrap), topic=t.payments)
    log = tmp_path / "scoring.log"
    first = start_scoring(settings, log)
    try:
        deadline = time.monotonic() + 90
        seen = 0
        while time.monotonic() < deadline and seen < 1000:
            seen = len(await read_all(env.kafka.bootstrap, t.predictions, 1000, timeout_s=2))
            assert first.poll() is None, log.read_text()[-3000:]
        assert seen >= 1000, f"only {seen} predictions before the kill: {log.read_text()[-3000:]}"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    second = start_scoring(settings, log)
    try:
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=180)
        predictions = await read_to_end(env.kafka.bootstrap, t.predictions)  # duplicates included
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, log.read_text()[-3000:]
    ids_by_input: dict[str, set[str]] = {}
    for record in predictions:
        decoded = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(decoded, Decoded)
        ids_by_input.setdefault(decoded.event.data.input_id, set()).add(decoded.event.id)
    assert set(ids_by_input) == set(env.payments["payment_id"].iloc[:5000])
    assert all(len(ids) == 1 for ids in ids_by_input.values()), "duplicates must carry identical ids"
    print(
        f"{len(predictions)} prediction records for 5000 inputs "
        f"({len(predictions) - 5000} redelivered duplicates with identical ids)"
    )
