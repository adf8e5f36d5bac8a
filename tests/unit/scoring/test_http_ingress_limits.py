"""The push ingress's doors, against a real uvicorn server on loopback: bodies refused before
they are read, a slow or endless body cut off, batch items capped, one hostile batch item
dead-lettered while its neighbours are scored, a distinct dead letter per rejected item."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from events import Mode, encode_http
from events.testing import sample_payment_event
from rtinfer.model.synthetic import write_synthetic_artifact
from services.adapters.kafka.publish import MemoryPublisher
from services.model.inprocess import InProcessModel
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings, Topics
from tests.unit.scoring.fakes import FakeFeatures, FakeVectors

pytestmark = pytest.mark.unit
BATCH = {"content-type": "application/cloudevents-batch+json"}


@pytest.fixture
async def served(
    unique_name: str, tmp_path: Path, free_port: int
) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryPublisher, ScoringSettings]]:
    async with _serving(unique_name, tmp_path, free_port, max_batch_items=50) as parts:
        yield parts


@contextlib.asynccontextmanager
async def _serving(
    unique_name: str, tmp_path: Path, free_port: int, *, max_batch_items: int
) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryPublisher, ScoringSettings]]:
    write_synthetic_artifact(tmp_path / "model")
    topics = Topics(
        payments=f"{unique_name}-payments",
        predictions=f"{unique_name}-predictions",
        explanations=f"{unique_name}-explanations",
        dlq=f"{unique_name}-dlq",
    )
    settings = ScoringSettings(
        topics=topics,
        model_dir=tmp_path / "model",
        http_port=free_port,
        http_max_body_bytes=1024 * 1024,
        http_read_timeout_s=1.0,
        http_max_batch_items=max_batch_items,
    )
    broker, outputs = KafkaBroker("in-memory:9092"), MemoryPublisher()
    app = ScoringApp(
        settings,
        ingress="http",
        broker=broker,
        features=FakeFeatures({}),
        model=InProcessModel(settings.model_dir),
        vectors=FakeVectors(),
        publisher=outputs,
    )
    async with TestKafkaBroker(broker):
        await app.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port}", timeout=10) as client:
                yield client, outputs, settings
        finally:
            await app.stop()


def _structured(payment_id: str) -> dict[str, Any]:
    _headers, body = encode_http(sample_payment_event(payment_id=payment_id), Mode.STRUCTURED)
    return json.loads(body)


async def test_a_100_mb_body_is_refused_by_its_content_length_before_it_is_read(served: Any) -> None:
    client, outputs, _settings = served
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def endless() -> AsyncIterator[bytes]:
        chunk = b"[" * 65536
        for _ in range(1600):  # 100 MiB, if anyone read it
            yield chunk

    headers = {**BATCH, "content-length": str(100 * 1024 * 1024)}
    try:
        answer = await client.post("/", content=endless(), headers=headers)
        status = answer.status_code
    except (httpx.RemoteProtocolError, httpx.WriteError):
        status = 413  # the server answered and closed while the client was still sending
    assert status == 413
    # Peak memory of this process (server and client) grew by far less than the body.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50 * 1024
    assert outputs.topics == {}


async def test_a_chunked_body_over_the_cap_is_cut_off(served: Any) -> None:
    client, outputs, _settings = served

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 65536  # 2.5 MiB in all, no Content-Length

    answer = await client.post("/", content=chunks(), headers=BATCH)
    assert answer.status_code == 413
    assert outputs.topics == {}


async def test_a_body_that_never_ends_gets_408(served: Any) -> None:
    client, _outputs, _settings = served

    async def trickle() -> AsyncIterator[bytes]:
        yield b"["
        await asyncio.sleep(3)  # longer than the 1 s read timeout
        yield b"]"

    try:
        answer = await client.post("/", content=trickle(), headers=BATCH)
        status = answer.status_code
    except (httpx.RemoteProtocolError, httpx.WriteError):
        status = 408
    assert status == 408


async def test_a_batch_over_the_item_limit_is_refused_without_dead_letters(served: Any) -> None:
    client, outputs, _settings = served
    answer = await client.post("/", content=json.dumps([1] * 51), headers=BATCH)
    assert answer.status_code == 413 and "limit 50" in answer.json()["error"]
    assert outputs.topics == {}


async def test_one_deeply_nested_item_is_dead_lettered_and_its_neighbours_scored(served: Any) -> None:
    client, outputs, settings = served
    deep = "[" * 300 + "]" * 300
    body = f"[{json.dumps(_structured('pay-a'))},{deep},{json.dumps(_structured('pay-b'))}]"

    answer = await client.post("/", content=body, headers=BATCH)

    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2 and answer.json()["dead_lettered"] == 1
    predicted = {event.data.input_id for event in outputs.topics[settings.topics.predictions]}
    assert predicted == {"pay-a", "pay-b"}
    [letter] = outputs.topics[settings.topics.dlq]
    assert letter.data.origin.item == 1 and letter.data.reason == "bad_json"


async def test_identical_rejected_items_get_distinct_dead_letters(served: Any) -> None:
    client, outputs, settings = served
    answer = await client.post("/", content=json.dumps([{}] * 5), headers=BATCH)
    assert answer.status_code == 400
    letters = outputs.topics[settings.topics.dlq]
    assert len(letters) == 5 and len({letter.id for letter in letters}) == 5
    assert sorted(letter.data.origin.item for letter in letters) == [0, 1, 2, 3, 4]
    # Redelivery of the same request gives the same ids (recognisable downstream).
    await client.post("/", content=json.dumps([{}] * 5), headers=BATCH)
    assert {letter.id for letter in outputs.topics[settings.topics.dlq][5:]} == {
        letter.id for letter in letters
    }


async def test_five_thousand_identical_bad_items_five_thousand_distinct_letters_within_the_cap(
    unique_name: str, tmp_path: Path, free_port: int
) -> None:
    """The cap refuses the batch whole (413, nothing dead-lettered) until it is raised; then each
    of 5,000 identical bad items gets its own dead letter id."""
    body = json.dumps([{}] * 5000)
    async with _serving(unique_name, tmp_path, free_port, max_batch_items=256) as (client, outputs, settings):
        refused = await client.post("/", content=body, headers=BATCH)
        assert refused.status_code == 413
        assert outputs.topics.get(settings.topics.dlq, []) == []
    async with _serving(unique_name, tmp_path, free_port, max_batch_items=5000) as (
        client,
        outputs,
        settings,
    ):
        answer = await client.post("/", content=body, headers=BATCH)
        assert answer.status_code == 400
        letters = outputs.topics[settings.topics.dlq]
        assert len(letters) == 5000 and len({letter.id for letter in letters}) == 5000
