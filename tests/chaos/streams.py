"""What the chaos scenarios share: a paced input stream, the scoring process's lifetime, and
reading the outputs back for the audit."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from events import Decoded, decode_kafka
from events.scoring import Prediction
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from services.scoring.settings import ScoringSettings
from tests.chaos.audit import Audit, audit
from tests.integration.kafka_helpers import create_topics, read_all, read_to_end, wait_caught_up
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring


async def topics_of(env: ScoringEnv, settings: ScoringSettings) -> None:
    t = settings.topics
    await create_topics(env.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)


def paced_stream(
    env: ScoringEnv, settings: ScoringSettings, count: int, rate: float, source: str
) -> asyncio.Task[Any]:
    """The first `count` payments produced at `rate`/s in the background (a task to await)."""
    records = payment_records(env.payments.iloc[:count], source)
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    return asyncio.create_task(
        produce_records(records, kafka=kafka, topic=settings.topics.payments, rate=rate)
    )


@contextlib.asynccontextmanager
async def scoring_process(
    settings: ScoringSettings, log: Path, **options: Any
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The scoring service as a process for the block; SIGTERM (then SIGKILL) after it."""
    process = start_scoring(settings, log, **options)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=10)


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


async def drained(env: ScoringEnv, settings: ScoringSettings, timeout_s: float = 240) -> None:
    await wait_caught_up(
        env.kafka.bootstrap, settings.group_id, settings.topics.payments, timeout_s=timeout_s
    )


async def audited(
    env: ScoringEnv, settings: ScoringSettings, count: int
) -> tuple[Audit, list[Any], list[Any]]:
    """The audit of the first `count` payments against both output topics read to their end."""
    predicted = await read_to_end(env.kafka.bootstrap, settings.topics.predictions)
    dead = await read_to_end(env.kafka.bootstrap, settings.topics.dlq)
    return audit(set(env.payments["payment_id"].iloc[:count]), predicted, dead), predicted, dead


def predictions_of(records: list[Any]) -> list[Prediction]:
    out = []
    for record in records:
        decoded = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(decoded, Decoded), decoded
        out.append(decoded.event.data)
    return out


def assignments(log: Path) -> int:
    """How many times the process was given partitions (1 = it never saw a rebalance)."""
    return log.read_text(errors="replace").count("partitions assigned:")


async def grown(
    env: ScoringEnv,
    topic: str,
    at_least: int,
    log: Path,
    *processes: subprocess.Popen[bytes],
    timeout_s: float = 120,
) -> int:
    """Wait until `topic` holds `at_least` records while the processes stay up; returns the count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    count = 0
    while loop.time() < deadline:
        count = len(await read_all(env.kafka.bootstrap, topic, at_least, timeout_s=3))
        if count >= at_least:
            return count
        for process in processes:
            assert process.poll() is None, tail(log)
    raise AssertionError(f"only {count} of {at_least} records on {topic}: {tail(log)}")
