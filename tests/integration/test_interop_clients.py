"""Clients nobody here wrote, against the real scoring service: kcat (librdkafka) producing
hand-written binary-mode CloudEvents and reading the predictions back with their headers, and
the cloudevents SDK posting binary, structured and batch requests to the push ingress."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.conversion import to_binary, to_dict, to_structured
from cloudevents.http import CloudEvent

from events import Decoded, decode_kafka
from tests.chaos.streams import scoring_process, tail, topics_of
from tests.integration.kafka_helpers import read_all
from tests.integration.scoring_env import ScoringEnv
from tests.servers import unavailable

PAYMENT_TYPE = "dev.rtinfer.payment.authorized.v1"


def _kcat() -> str:
    path = shutil.which("kcat")
    if path is None:
        unavailable("kcat", "not on PATH (Debian: apt-get install kcat; make test installs it)")
    return str(path)


def _payment(row: Any) -> dict[str, Any]:
    return {
        "payment_id": row.payment_id,
        "card_id": row.card_id,
        "merchant_id": row.merchant_id,
        "amount": float(row.amount),
        "currency": row.currency,
        "timestamp": row.timestamp.isoformat().replace("+00:00", "Z"),
        "country": row.country,
        "merchant_category": row.merchant_category,
        "channel": row.channel,
        "card_type": row.card_type,
    }


def _kcat_produce(kcat: str, bootstrap: str, topic: str, key: str, value: bytes, headers: list[str]) -> None:
    argv = [kcat, "-P", "-b", bootstrap, "-t", topic, "-k", key, "-X", "acks=all"]
    for header in headers:
        argv += ["-H", header]
    subprocess.run(argv, input=value, check=True, timeout=30, capture_output=True)


async def test_kcat_binary_mode_events_with_and_without_time(env: ScoringEnv, tmp_path: Path) -> None:
    kcat = _kcat()
    settings = env.settings("kcat", max_records=50)
    await topics_of(env, settings)
    rows = list(env.payments.iloc[:40].itertuples())
    sent: dict[str, str] = {}
    for index, row in enumerate(rows):
        event_id = f"kcat-{index}"
        headers = [
            "ce_specversion=1.0",
            f"ce_id={event_id}",
            "ce_source=/interop/kcat",
            f"ce_type={PAYMENT_TYPE}",
            "content-type=application/json",
        ]
        if index % 2 == 0:  # `time` is optional in CloudEvents: half of them leave it out
            headers.append(f"ce_time={_payment(row)['timestamp']}")
        value = json.dumps(_payment(row)).encode()
        _kcat_produce(kcat, env.kafka.bootstrap, settings.topics.payments, row.card_id, value, headers)
        sent[event_id] = event_id  # a prediction's input_id is its input's CloudEvent id
    malformed = [
        [
            "ce_specversion=1.0",
            "ce_id=bad-0",
            "ce_source=/interop/kcat",
            f"ce_type={PAYMENT_TYPE}",
        ],  # not JSON
        ["ce_id=bad-1", "ce_source=/interop/kcat", f"ce_type={PAYMENT_TYPE}"],  # no specversion
    ]
    for headers in malformed:
        _kcat_produce(kcat, env.kafka.bootstrap, settings.topics.payments, "k", b"{not json", headers)

    async with scoring_process(settings, tmp_path / "scoring.log"):
        await read_all(env.kafka.bootstrap, settings.topics.predictions, len(rows), timeout_s=120)
        consume = [kcat, "-C", "-b", env.kafka.bootstrap, "-t", settings.topics.predictions]
        consume += ["-o", "beginning", "-c", str(len(rows)), "-e", "-J", "-q"]
        done = await asyncio.to_thread(
            subprocess.run, consume, capture_output=True, text=True, timeout=120, check=False
        )
        dead = await read_all(env.kafka.bootstrap, settings.topics.dlq, len(malformed), timeout_s=60)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(records) == len(rows), done.stderr[-2000:]
    causations = {}
    for record in records:
        headers = dict(zip(record["headers"][::2], record["headers"][1::2], strict=True))
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"].startswith("dev.rtinfer.prediction")
        causations[headers["ce_causationid"]] = json.loads(record["payload"])["input_id"]
    assert causations == sent
    assert len(dead) == len(malformed)


async def test_cloudevents_sdk_binary_structured_and_batch(
    env: ScoringEnv, tmp_path: Path, free_port: int
) -> None:
    settings = env.settings("sdk", http_port=free_port)
    await topics_of(env, settings)
    rows = list(env.payments.iloc[100:112].itertuples())

    def sdk_event(row: Any, with_time: bool) -> CloudEvent:
        attributes = {"type": PAYMENT_TYPE, "source": "/interop/sdk", "id": f"sdk-{row.payment_id}"}
        event = CloudEvent(attributes, _payment(row))
        if not with_time:
            del event["time"]  # the SDK adds one; CloudEvents makes it optional
        return event

    url = f"http://127.0.0.1:{free_port}/"
    log = tmp_path / "scoring.log"
    async with scoring_process(settings, log, ingress="http") as process:
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(100):  # until the service listens
                try:
                    if (await client.get(url + "healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                pytest.fail(tail(log))
            replies = []
            for row in rows[:4]:
                headers, body = to_binary(sdk_event(row, with_time=row.Index % 2 == 0))
                replies.append(await client.post(url, headers=headers, content=body))
            for row in rows[4:8]:
                headers, body = to_structured(sdk_event(row, with_time=False))
                replies.append(await client.post(url, headers=headers, content=body))
            batch = [to_dict(sdk_event(row, with_time=True)) for row in rows[8:]]
            replies.append(
                await client.post(
                    url,
                    headers={"content-type": "application/cloudevents-batch+json"},
                    content=json.dumps(batch).encode(),
                )
            )
        assert process.poll() is None, tail(log)
    assert [reply.status_code for reply in replies] == [200] * len(replies), [r.text for r in replies]
    predicted = await read_all(env.kafka.bootstrap, settings.topics.predictions, len(rows), timeout_s=60)
    inputs = set()
    for record in predicted:
        decoded = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(decoded, Decoded)
        inputs.add(decoded.event.data.input_id)
    assert inputs == {f"sdk-{row.payment_id}" for row in rows}
