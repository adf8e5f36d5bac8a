"""Both vector backends against exact numpy search, on real engines.

The same behaviour suite runs against a real Weaviate server and an embedded Milvus Lite store:
recall against the exact oracle, idempotent upserts, stored fields round-trip, and failures
surface as typed, retryable errors naming the backend. The cases carry the fraud case schema, so
the collections are laid out as the deployed ones.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from rtinfer.vectors.indexing import index_cases
from services.adapters.vectors.common import MilvusIndexSettings, QueryMode, WeaviateIndexSettings
from services.adapters.vectors.knn import exact_knn, recall_at_k
from services.adapters.vectors.milvus_index import MilvusLiteIndex
from services.adapters.vectors.weaviate_index import WeaviateIndex
from services.core.errors import BadRequestError, DependencyUnavailable
from services.core.ports import Case, CaseSchema, FloatMatrix
from services.fraud.cases import FRAUD_CASE_SCHEMA
from tests.servers import WeaviateEndpoint

DIMENSIONS = 16
STORED = 5000
QUERIES = 200
K = 5
MICRO_BATCH = 64
START = datetime(2024, 3, 1, tzinfo=UTC)

Index = WeaviateIndex | MilvusLiteIndex
# Another use case's cases: every property kind, none of the fraud names.
OTHER_SCHEMA = CaseSchema({"channel": "text", "score": "number", "attempts": "int", "flagged": "bool"})


@dataclass(frozen=True)
class Dataset:
    cases: list[Case]
    vectors: FloatMatrix
    queries: FloatMatrix


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """Clustered vectors (20 clusters, three of them 'fraud') and fresh queries from the same mix."""
    rng = np.random.default_rng(2024)
    centres = rng.normal(scale=3.0, size=(20, DIMENSIONS))
    membership = rng.integers(0, 20, size=STORED)
    vectors = (centres[membership] + rng.normal(size=(STORED, DIMENSIONS))).astype(np.float32)
    queries = (centres[rng.integers(0, 20, size=QUERIES)] + rng.normal(size=(QUERIES, DIMENSIONS))).astype(
        np.float32
    )
    cases = [
        Case(
            id=f"case-{row:05d}",
            label=int(cluster < 3),
            timestamp=START + timedelta(minutes=row, microseconds=row),
            properties={
                "amount": round(float(rng.lognormal(3, 1)), 2),
                "merchant_id": f"m-{cluster}-{row % 5}",
            },
        )
        for row, cluster in enumerate(membership)
    ]
    return Dataset(cases, vectors, queries)


def collection_name(unique_name: str) -> str:
    return "T" + unique_name[2:].replace("-", "_")


def weaviate_settings(
    server: WeaviateEndpoint, collection: str, **overrides: object
) -> WeaviateIndexSettings:
    base: dict[str, object] = {
        "collection": collection,
        "url": f"http://{server.http_host}:{server.http_port}",
        "grpc_port": server.grpc_port,
        "timeout_s": 30.0,
    }
    return WeaviateIndexSettings.model_validate(base | overrides)


def make_index(
    request: pytest.FixtureRequest,
    backend: str,
    collection: str,
    tmp_path: Path,
    schema: CaseSchema = FRAUD_CASE_SCHEMA,
    **overrides: object,
) -> Index:
    if backend == "weaviate":
        server: WeaviateEndpoint = request.getfixturevalue("weaviate_server")
        return WeaviateIndex(weaviate_settings(server, collection, **overrides), schema)
    settings = {"collection": collection, "path": tmp_path / "cases.db", "timeout_s": 30.0}
    return MilvusLiteIndex(MilvusIndexSettings.model_validate(settings | overrides), schema)


@pytest.fixture(params=["weaviate", "milvus"])
async def index(request: pytest.FixtureRequest, unique_name: str, tmp_path: Path) -> AsyncIterator[Index]:
    vector_index = make_index(request, request.param, collection_name(unique_name), tmp_path)
    try:
        yield vector_index
    finally:
        await vector_index.drop_collection()
        await vector_index.close()


async def search_in_micro_batches(vector_index: Index, queries: FloatMatrix) -> list[list[str]]:
    found: list[list[str]] = []
    for start in range(0, len(queries), MICRO_BATCH):
        answer = await vector_index.search(queries[start : start + MICRO_BATCH], K)
        found += [[neighbour.id for neighbour in neighbours] for neighbours in answer]
    return found


async def test_agrees_with_exact_search(index: Index, dataset: Dataset) -> None:
    written = await index_cases(index, dataset.cases, dataset.vectors, batch_size=1000, progress=False)
    rows, distances = exact_knn(dataset.vectors, dataset.queries, K)
    expected = [[dataset.cases[row].id for row in found] for found in rows]

    answer = await index.search(dataset.queries[:MICRO_BATCH], K)
    found = await search_in_micro_batches(index, dataset.queries)

    assert written == STORED
    assert recall_at_k(found, expected) >= 0.95
    exact_distance = {
        (query, dataset.cases[row].id): distances[query][rank]
        for query, found_rows in enumerate(rows[:MICRO_BATCH])
        for rank, row in enumerate(found_rows)
    }
    for query, neighbours in enumerate(answer):
        assert [n.distance for n in neighbours] == sorted(n.distance for n in neighbours)
        for neighbour in neighbours:
            if (query, neighbour.id) in exact_distance:  # squared L2 on both sides
                assert neighbour.distance == pytest.approx(
                    exact_distance[query, neighbour.id], rel=1e-4, abs=1e-4
                )


async def test_upsert_twice_keeps_one_copy(index: Index, dataset: Dataset) -> None:
    cases, vectors = dataset.cases[:1000], dataset.vectors[:1000]
    await index_cases(index, cases, vectors, batch_size=300, progress=False)
    relabelled = [replace(c, label=1 - c.label) for c in cases]

    await index_cases(index, relabelled, vectors, batch_size=300, progress=False)

    assert await index.count() == 1000
    [neighbours] = await index.search(vectors[7:8], 1)
    assert (neighbours[0].id, neighbours[0].label) == (cases[7].id, 1 - cases[7].label)


async def test_neighbours_carry_the_stored_case(index: Index, dataset: Dataset) -> None:
    await index_cases(index, dataset.cases[:500], dataset.vectors[:500], progress=False)
    picked = [3, 99, 250, 499]

    answer = await index.search(dataset.vectors[picked], K)

    for row, neighbours in zip(picked, answer, strict=True):
        case, nearest = dataset.cases[row], neighbours[0]
        assert len(neighbours) == K
        assert nearest.id == case.id
        assert nearest.distance == pytest.approx(0.0, abs=1e-4)
        assert nearest.label == case.label
        assert nearest.properties["amount"] == pytest.approx(case.properties["amount"])
        assert nearest.properties["merchant_id"] == case.properties["merchant_id"]
        assert set(nearest.properties) == {*FRAUD_CASE_SCHEMA.names, "timestamp"}
        stamp = nearest.properties["timestamp"]
        assert isinstance(stamp, datetime)
        assert stamp == case.timestamp
        assert stamp.tzinfo is not None


@pytest.mark.parametrize("backend", ["weaviate", "milvus"])
@pytest.mark.parametrize("mode", [QueryMode.CONCURRENT, QueryMode.BATCHED])
async def test_any_case_schema_is_stored_and_returned(
    request: pytest.FixtureRequest, backend: str, mode: QueryMode, unique_name: str, tmp_path: Path
) -> None:
    vector_index = make_index(
        request, backend, collection_name(unique_name), tmp_path, OTHER_SCHEMA, query_mode=mode
    )
    cases = [
        Case(
            f"other-{row}",
            row % 2,
            START + timedelta(hours=row),
            # Within 32 bits: Weaviate's GraphQL (batched mode) answers null beyond that.
            {"channel": f"web {row}", "score": row / 4, "attempts": 2**30 + row, "flagged": row % 3 == 0},
        )
        for row in range(8)
    ]
    vectors = np.eye(8, dtype=np.float32)
    try:
        await index_cases(vector_index, cases, vectors, progress=False)
        answer = await vector_index.search(vectors, 1)
    finally:
        await vector_index.drop_collection()
        await vector_index.close()

    for case, [nearest] in zip(cases, answer, strict=True):
        assert nearest.id == case.id
        assert nearest.properties == {**case.properties, "timestamp": case.timestamp}
        assert [type(nearest.properties[name]) for name in OTHER_SCHEMA.names] == [str, float, int, bool]


@pytest.mark.parametrize("mode", list(QueryMode))
async def test_query_modes_return_the_same_neighbours(
    index: Index, dataset: Dataset, mode: QueryMode, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    await index_cases(index, dataset.cases[:2000], dataset.vectors[:2000], progress=False)
    backend = "weaviate" if isinstance(index, WeaviateIndex) else "milvus"
    other = make_index(request, backend, index.settings.collection, tmp_path, query_mode=mode)
    try:
        expected = [[n.id for n in row] for row in await index.search(dataset.queries[:16], K)]
        found = [[n.id for n in row] for row in await other.search(dataset.queries[:16], K)]
    finally:
        await other.close()
    assert recall_at_k(found, expected) >= 0.95


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_weaviate_is_unavailable(free_port: int) -> None:
    grpc_port = next(port for port in iter(closed_port, None) if port != free_port)
    settings = WeaviateIndexSettings(
        collection="Unreachable", url=f"http://127.0.0.1:{free_port}", grpc_port=grpc_port, timeout_s=1.0
    )
    vector_index = WeaviateIndex(settings, FRAUD_CASE_SCHEMA)
    started = time.perf_counter()

    with pytest.raises(DependencyUnavailable) as connect_failure:
        await vector_index.ensure_collection(DIMENSIONS)
    with pytest.raises(DependencyUnavailable) as search_failure:
        await vector_index.search(np.zeros((2, DIMENSIONS), dtype=np.float32), K)

    for failure in (connect_failure.value, search_failure.value):
        assert failure.dependency == "weaviate"
        assert failure.retryable
    assert time.perf_counter() - started < 10
    await vector_index.close()


async def test_weaviate_without_grpc_fails_at_connect(
    weaviate_server: WeaviateEndpoint, free_port: int
) -> None:
    settings = weaviate_settings(weaviate_server, "NoGrpc", grpc_port=free_port, timeout_s=1.0)
    vector_index = WeaviateIndex(settings, FRAUD_CASE_SCHEMA)

    with pytest.raises(DependencyUnavailable) as failure:
        await vector_index.connect()

    assert failure.value.dependency == "weaviate"
    await vector_index.close()


class TcpProxy:
    """Forwards a local port to a server until stopped: an outage we can switch on."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, upstream_writer]
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()
    writer.close()


async def test_weaviate_outage_at_query_time_is_unavailable(
    weaviate_server: WeaviateEndpoint, unique_name: str, dataset: Dataset
) -> None:
    rest, grpc = (
        TcpProxy(weaviate_server.http_host, weaviate_server.http_port),
        TcpProxy(weaviate_server.http_host, weaviate_server.grpc_port),
    )
    rest_port, grpc_port = await rest.start(), await grpc.start()
    direct = WeaviateIndex(
        weaviate_settings(weaviate_server, collection_name(unique_name)), FRAUD_CASE_SCHEMA
    )
    proxied = WeaviateIndex(
        WeaviateIndexSettings(
            collection=collection_name(unique_name),
            url=f"http://127.0.0.1:{rest_port}",
            grpc_port=grpc_port,
            timeout_s=2.0,
        ),
        FRAUD_CASE_SCHEMA,
    )
    try:
        await index_cases(direct, dataset.cases[:200], dataset.vectors[:200], progress=False)
        assert len((await proxied.search(dataset.queries[:4], K))[0]) == K

        await rest.stop()
        await grpc.stop()
        started = time.perf_counter()
        with pytest.raises(DependencyUnavailable) as failure:
            await proxied.search(dataset.queries[:4], K)

        assert failure.value.dependency == "weaviate"
        assert failure.value.retryable
        assert time.perf_counter() - started < 5  # bounded by timeout_s, not the client's minute of retries
    finally:
        await proxied.close()
        await direct.drop_collection()
        await direct.close()


@pytest.mark.parametrize("layout", ["parent is a file", "path is a file"])
async def test_unusable_milvus_path_is_unavailable(tmp_path: Path, layout: str) -> None:
    blocker = tmp_path / ("blocker" if layout == "parent is a file" else "cases.db")
    blocker.write_text("not a directory")
    path = blocker / "cases.db" if layout == "parent is a file" else blocker
    vector_index = MilvusLiteIndex(MilvusIndexSettings(collection="Cases", path=path), FRAUD_CASE_SCHEMA)

    with pytest.raises(DependencyUnavailable) as failure:
        await vector_index.ensure_collection(DIMENSIONS)

    assert failure.value.dependency == "milvus"
    assert failure.value.retryable
    await vector_index.close()


async def test_milvus_refuses_a_collection_of_other_dimensions(tmp_path: Path, unique_name: str) -> None:
    settings = MilvusIndexSettings(collection=collection_name(unique_name), path=tmp_path / "cases.db")
    vector_index = MilvusLiteIndex(settings, FRAUD_CASE_SCHEMA)
    try:
        await vector_index.ensure_collection(DIMENSIONS)
        await vector_index.ensure_collection(DIMENSIONS)  # same shape: fine, idempotent

        with pytest.raises(BadRequestError, match="16-d"):
            await vector_index.ensure_collection(8)
    finally:
        await vector_index.close()
