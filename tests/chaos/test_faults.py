"""Faults against the real stack (Kafka, Redis, Weaviate, the KServe model server, Feast), each
audited by set difference: inputs against predictions ∪ dead letters. Bounded in count and time;
`make chaos` runs this suite alone and prints the table of figures."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from tests.chaos.audit import audit
from tests.chaos.hostile import hostile_records
from tests.chaos.streams import grown
from tests.integration.kafka_helpers import create_topics, read_to_end, wait_caught_up
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring

DLQ_READ_BYTES = 8 * 1024 * 1024


async def _produce_raw(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(**KafkaSettings(bootstrap=bootstrap).producer_kwargs(linger_ms=5))
    await producer.start()
    try:
        pending = [
            await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _payments_in(env: ScoringEnv, settings: Any, count: int, source: str) -> None:
    """The scenario's topics, and its first `count` payments produced to its input topic."""
    t = settings.topics
    await create_topics(env.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)
    records = payment_records(env.payments.iloc[:count], source)
    await produce_records(records, kafka=KafkaSettings(bootstrap=env.kafka.bootstrap), topic=t.payments)


KILLS = 10


async def _kill_mid_work(env: ScoringEnv, settings: Any, log: Path) -> None:
    """Start the scoring process and SIGKILL it, KILLS times, each once it has written more
    predictions since the previous kill (so every kill lands in the middle of work)."""
    seen = 0
    for _ in range(KILLS):
        process = start_scoring(settings, log)
        try:
            seen = await grown(env, settings.topics.predictions, seen + 300, log, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)


async def _outputs(env: ScoringEnv, topics: object, *, read_committed: bool = False) -> tuple[list, list]:  # type: ignore[type-arg]
    """Both output topics read to their end (a count would stop early when there are duplicates)."""
    bootstrap = env.kafka.bootstrap
    predicted = await read_to_end(bootstrap, topics.predictions, read_committed=read_committed)  # type: ignore[attr-defined]
    dead = await read_to_end(bootstrap, topics.dlq, read_committed=read_committed)  # type: ignore[attr-defined]
    return predicted, dead


async def test_t5_hostile_records_among_valid_ones(env: ScoringEnv, tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    settings = env.settings("t5", max_records=200)
    t = settings.topics
    await create_topics(env.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)
    valid = [(r.key, r.value, r.headers) for r in payment_records(env.payments.iloc[:4000], "/chaos/t5")]
    hostile = hostile_records(400)
    mixed = list(valid)
    rng = random.Random(11)
    for record in hostile:  # interleaved at random places, order of the valid ones kept
        mixed.insert(rng.randrange(len(mixed) + 1), (record.key, record.value, record.headers))
    await _produce_raw(env.kafka.bootstrap, t.payments, mixed)

    log = tmp_path / "scoring.log"
    process = start_scoring(settings, log)
    try:
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=240)
        predicted, dead = await _outputs(env, t)
        assert process.poll() is None, f"the scoring process died: {log.read_text()[-3000:]}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    valid_ids = set(env.payments["payment_id"].iloc[:4000])
    rejected = {record.chaos_id for record in hostile if not record.is_event}
    accepted = {record.chaos_id for record in hostile if record.is_event}
    result = audit(valid_ids | rejected | accepted, predicted, dead)
    chaos_report(**result.figures(), crashes=0)
    assert result.lost == set()
    assert rejected <= set(result.dead), sorted(rejected - set(result.dead))[:10]
    assert (valid_ids | accepted) <= set(result.predicted)
    assert len(dead) == len(rejected)  # one dead letter per hostile record, nothing else
    for letter in (result.dead[key] for key in rejected):
        assert letter.reason and letter.origin.kind == "kafka" and letter.origin.topic == t.payments


async def test_t2_sigterm_five_times_loses_and_duplicates_nothing(
    env: ScoringEnv, tmp_path: Path, chaos_report
) -> None:  # type: ignore[no-untyped-def]
    settings = env.settings("t2", max_records=100, shutdown_timeout_s=20.0)
    t = settings.topics
    count = 5000
    await _payments_in(env, settings, count, "/chaos/t2")
    log = tmp_path / "scoring.log"
    exits: list[float] = []
    for _ in range(5):
        process = start_scoring(settings, log)
        try:
            await asyncio.sleep(6)  # starts, joins the group, scores a few batches
        finally:
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=settings.shutdown_timeout_s + 10)
            exits.append(time.monotonic() - started)
        assert code == 0, log.read_text()[-3000:]
    process = start_scoring(settings, log)
    try:
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=240)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    predicted, dead = await _outputs(env, t)
    result = audit(set(env.payments["payment_id"].iloc[:count]), predicted, dead)
    chaos_report(**result.figures(), max_exit_s=round(max(exits), 1))
    assert result.lost == set()
    assert result.duplicates == 0
    assert max(exits) <= settings.shutdown_timeout_s


async def test_t1_sigkill_ten_times_loses_nothing(env: ScoringEnv, tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    settings = env.settings("t1", max_records=100)
    t = settings.topics
    count = 10_000
    await _payments_in(env, settings, count, "/chaos/t1")
    log = tmp_path / "scoring.log"
    await _kill_mid_work(env, settings, log)
    process = start_scoring(settings, log)
    try:
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=240)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    predicted, dead = await _outputs(env, t)
    result = audit(set(env.payments["payment_id"].iloc[:count]), predicted, dead)
    chaos_report(**result.figures(), kills=KILLS)
    assert result.lost == set()
    assert result.unstable_ids == set(), "a redelivered input must keep its prediction id"


async def test_t1_exactly_once_sigkill_ten_times_no_loss_no_duplicates(
    env: ScoringEnv, tmp_path: Path, chaos_report
) -> None:  # type: ignore[no-untyped-def]
    settings = env.settings(
        "t1eos", max_records=100, processing_guarantee="exactly-once", transactional_id="t1eos-instance-0"
    )
    t = settings.topics
    count = 10_000
    await _payments_in(env, settings, count, "/chaos/t1eos")
    log = tmp_path / "scoring.log"
    await _kill_mid_work(env, settings, log)
    process = start_scoring(settings, log)  # the same transactional id: fences what the last one left open
    try:
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=240)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    committed, dead = await _outputs(env, t, read_committed=True)
    result = audit(set(env.payments["payment_id"].iloc[:count]), committed, dead)
    chaos_report(**result.figures(), kills=KILLS)
    assert result.lost == set()
    assert result.duplicates == 0, "a read_committed reader sees each prediction once"


def test_t10_the_edge_survives_a_minute_of_coverage_guided_fuzzing(tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    """atheris (libFuzzer) on decode_kafka, decode_http and dead_letter_event: no exception, every
    dead letter within its size limit. `make fuzz` runs the same target for longer."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.decoders",
            "-max_total_time=60",
            "-rss_limit_mb=3072",
            str(tmp_path),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    runs = re.search(r"Done (\d+) runs in (\d+) second", done.stderr)
    chaos_report(fuzz_runs=int(runs.group(1)) if runs else 0, crashes=0 if done.returncode == 0 else 1)
    assert done.returncode == 0, done.stderr[-4000:]
    assert runs is not None and int(runs.group(1)) > 1000, done.stderr[-2000:]
