"""VectorIndexPort on Weaviate: self-provided vectors, HNSW, squared L2, queries over gRPC.

The collection holds case_id, label, the CaseSchema's properties and timestamp; searches return
exactly those.

Distance is `l2-squared` (sum of squared differences), the same number Milvus reports for
its `L2` metric and `exact_knn` computes, so neighbours and distances compare across backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import weaviate
from grpc import RpcError
from grpc.aio import AioRpcError
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import MetadataQuery
from weaviate.collections import CollectionAsync
from weaviate.connect import ConnectionParams
from weaviate.exceptions import (
    AuthenticationFailedError,
    InsufficientPermissionsError,
    UnexpectedStatusCodeError,
    WeaviateBaseError,
    WeaviateInvalidInputError,
)
from weaviate.util import generate_uuid5

from services.adapters.kserve.grpc_health import grpc_serving
from services.adapters.vectors.common import (
    QueryMode,
    WeaviateIndexSettings,
    as_utc,
    check_matrix,
    check_upsert,
    gather_bounded,
    property_rows,
    stored_properties,
)
from services.core.errors import BadRequestError, DependencyError, DependencyUnavailable
from services.core.ports import Case, CaseSchema, FloatMatrix, Neighbour, PropertyKind, PropertyValue

DEPENDENCY = "weaviate"
DATA_TYPES: dict[PropertyKind, DataType] = {
    "text": DataType.TEXT,
    "number": DataType.NUMBER,
    "int": DataType.INT,
    "bool": DataType.BOOL,
}


def collection_properties(schema: CaseSchema) -> list[Property]:
    """The collection's properties: case_id, label, the schema's, timestamp (text matches exactly)."""
    return [
        Property(name="case_id", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="label", data_type=DataType.INT),
        *(_property(name, kind) for name, kind in schema.properties.items()),
        Property(name="timestamp", data_type=DataType.DATE),
    ]


def returned_properties(schema: CaseSchema) -> list[str]:
    """The properties a search asks for."""
    return ["case_id", "label", *schema.names, "timestamp"]


def _property(name: str, kind: PropertyKind) -> Property:
    if kind == "text":
        return Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD)
    return Property(name=name, data_type=DATA_TYPES[kind])


def case_uuid(case_id: str) -> str:
    """The object UUID of a case: derived from its id, so a second upsert replaces the first."""
    return str(generate_uuid5(case_id))


def as_dependency_error(error: BaseException) -> DependencyError:
    """Classify a client failure: caller mistakes are final, everything else may pass."""
    if isinstance(error, UnexpectedStatusCodeError) and _is_client_fault(error.status_code):
        return BadRequestError(DEPENDENCY, str(error))
    final = (AuthenticationFailedError, InsufficientPermissionsError, WeaviateInvalidInputError)
    if isinstance(error, final):
        return DependencyError(DEPENDENCY, str(error), retryable=False)
    if isinstance(error, TimeoutError):
        return DependencyUnavailable(DEPENDENCY, "timed out")
    if isinstance(error, AioRpcError):
        return DependencyUnavailable(DEPENDENCY, f"gRPC {error.code().name}: {error.details()}")
    return DependencyUnavailable(DEPENDENCY, f"{type(error).__name__}: {error}")


def _is_client_fault(status: int) -> bool:
    return 400 <= status < 500 and status not in {408, 429}


class WeaviateIndex:
    """Similar past cases in one Weaviate collection; connects on first use.

    `schema` decides the collection's properties (at creation) and what a search returns.
    """

    def __init__(self, settings: WeaviateIndexSettings, schema: CaseSchema) -> None:
        self.settings = settings
        self.schema = schema
        self._returned = returned_properties(schema)
        self._client: weaviate.WeaviateAsyncClient | None = None
        self._connecting = asyncio.Lock()

    async def connect(self) -> None:
        """Open the client (REST + gRPC health checks); idempotent."""
        await self._connected()

    async def ensure_collection(self, dimensions: int) -> None:
        """Create the collection if missing (dimensions are fixed by the first vectors)."""
        client = await self._connected()
        name = self.settings.collection
        try:
            async with asyncio.timeout(self.settings.timeout_s * 5):
                if await client.collections.exists(name):
                    return
                await client.collections.create(
                    name,
                    description=f"labelled past cases, {dimensions}-d standardized feature vectors",
                    vector_config=Configure.Vectors.self_provided(
                        vector_index_config=Configure.VectorIndex.hnsw(
                            distance_metric=VectorDistances.L2_SQUARED
                        )
                    ),
                    properties=collection_properties(self.schema),
                )
        except (WeaviateBaseError, TimeoutError, OSError) as error:
            # A 422 may mean another writer created it between our check and our create.
            if not (isinstance(error, UnexpectedStatusCodeError) and await self._exists()):
                raise as_dependency_error(error) from error

    async def upsert(self, cases: Sequence[Case], vectors: FloatMatrix) -> int:
        """Insert or replace the cases; chunks go out `import_concurrency` at a time."""
        matrix = check_upsert(cases, vectors)
        rows = property_rows(self.schema, cases)
        collection = await self._collection()
        chunk = self.settings.import_chunk
        calls = [
            partial(
                self._insert,
                collection,
                cases[start : start + chunk],
                rows[start : start + chunk],
                matrix[start : start + chunk],
            )
            for start in range(0, len(cases), chunk)
        ]
        try:
            async with asyncio.timeout(self.settings.import_timeout_s):
                written = await gather_bounded(calls, self.settings.import_concurrency)
        except (WeaviateBaseError, TimeoutError, OSError) as error:
            raise as_dependency_error(error) from error
        return sum(written)

    async def search(self, vectors: FloatMatrix, k: int) -> list[list[Neighbour]]:
        """The k nearest cases per row; the whole micro-batch is bounded by timeout_s."""
        matrix = check_matrix(vectors)
        if matrix.shape[0] == 0:
            return []
        collection = await self._collection()
        try:
            # The client retries UNAVAILABLE with backoff for about a minute; a scoring batch
            # cannot wait that long, so the caller's retry policy takes over after timeout_s.
            async with asyncio.timeout(self.settings.timeout_s):
                return await self._search(collection, matrix, k)
        except (WeaviateBaseError, TimeoutError, OSError) as error:
            raise as_dependency_error(error) from error

    async def count(self) -> int:
        """How many cases the collection holds."""
        collection = await self._collection()
        try:
            async with asyncio.timeout(self.settings.timeout_s * 5):
                return int(await collection.length())
        except (WeaviateBaseError, TimeoutError, OSError) as error:
            raise as_dependency_error(error) from error

    async def drop_collection(self) -> None:
        """Delete the collection and everything in it (tests and benchmarks clean up)."""
        client = await self._connected()
        try:
            async with asyncio.timeout(self.settings.timeout_s * 5):
                await client.collections.delete(self.settings.collection)
        except (WeaviateBaseError, TimeoutError, OSError) as error:
            raise as_dependency_error(error) from error

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _connected(self) -> weaviate.WeaviateAsyncClient:
        async with self._connecting:
            if self._client is None:
                self._client = await self._open()
            return self._client

    async def _open(self) -> weaviate.WeaviateAsyncClient:
        settings = self.settings
        timeout = settings.timeout_s
        client = weaviate.WeaviateAsyncClient(
            connection_params=ConnectionParams.from_params(
                http_host=settings.host,
                http_port=settings.http_port,
                http_secure=settings.secure,
                grpc_host=settings.host,
                grpc_port=settings.grpc_port,
                grpc_secure=settings.secure,
            ),
            auth_client_secret=(
                Auth.api_key(settings.api_key.get_secret_value()) if settings.api_key else None
            ),
            additional_config=AdditionalConfig(
                timeout=Timeout(init=timeout, query=timeout, insert=settings.import_timeout_s)
            ),
            # The client's own init checks also ask PyPI for a newer client version: an outbound
            # call at every start. REST is still checked by connect(); gRPC health we check here.
            skip_init_checks=True,
        )
        try:
            async with asyncio.timeout(timeout * 2):
                await client.connect()
                target = f"{settings.host}:{settings.grpc_port}"
                if not await grpc_serving(target, secure=settings.secure, timeout_s=timeout):
                    raise DependencyUnavailable(DEPENDENCY, f"gRPC on {target} is not serving")
        except (WeaviateBaseError, RpcError, TimeoutError, OSError) as error:
            await client.close()
            raise as_dependency_error(error) from error
        except DependencyUnavailable:
            await client.close()
            raise
        return client

    async def _exists(self) -> bool:
        client = await self._connected()
        try:
            return bool(await client.collections.exists(self.settings.collection))
        except (WeaviateBaseError, OSError):
            return False

    async def _collection(self) -> CollectionAsync[Any, Any]:
        client = await self._connected()
        return client.collections.use(self.settings.collection)

    async def _insert(
        self,
        collection: CollectionAsync[Any, Any],
        cases: Sequence[Case],
        rows: Sequence[dict[str, PropertyValue]],
        vectors: FloatMatrix,
    ) -> int:
        objects = [
            DataObject(properties=_properties(case, row), vector=vector.tolist(), uuid=case_uuid(case.id))
            for case, row, vector in zip(cases, rows, vectors, strict=True)
        ]
        outcome = await collection.data.insert_many(objects)
        if outcome.has_errors:
            first = next(iter(outcome.errors.values()))
            raise BadRequestError(
                DEPENDENCY, f"{len(outcome.errors)} of {len(objects)} objects rejected: {first.message}"
            )
        return len(objects)

    async def _search(
        self, collection: CollectionAsync[Any, Any], matrix: FloatMatrix, k: int
    ) -> list[list[Neighbour]]:
        mode = self.settings.query_mode
        if mode is QueryMode.BATCHED:
            return await self._search_graphql(matrix, k)
        calls = [partial(self._near_vector, collection, row, k) for row in matrix]
        if mode is QueryMode.SEQUENTIAL:
            return [await call() for call in calls]
        return await gather_bounded(calls, self.settings.max_concurrency)

    async def _near_vector(
        self, collection: CollectionAsync[Any, Any], vector: FloatMatrix, k: int
    ) -> list[Neighbour]:
        found = await collection.query.near_vector(
            vector.tolist(),
            limit=k,
            return_properties=self._returned,
            return_metadata=MetadataQuery(distance=True),
        )
        return [_neighbour(self.schema, hit.properties, hit.metadata.distance) for hit in found.objects]

    async def _search_graphql(self, matrix: FloatMatrix, k: int) -> list[list[Neighbour]]:
        # Weaviate has no multi-vector search RPC; GraphQL aliases put a micro-batch in one
        # REST request. An option, not the default: its median beat concurrent gRPC only with the
        # CPU saturated, and its tail was always longer (docs/vectors.md).
        client = await self._connected()
        fields = " ".join(self._returned) + " _additional { distance }"
        queries = " ".join(
            f"q{row}: {self.settings.collection}(nearVector: {{vector: [{','.join(map(repr, vector.tolist()))}]}}, "
            f"limit: {int(k)}) {{ {fields} }}"
            for row, vector in enumerate(matrix)
        )
        answer = await client.graphql_raw_query(f"{{ Get {{ {queries} }} }}")
        if answer.errors:
            raise DependencyUnavailable(DEPENDENCY, f"GraphQL search failed: {answer.errors}")
        return [
            [
                _neighbour(self.schema, hit, hit["_additional"]["distance"])
                for hit in answer.get[f"q{row}"] or []
            ]
            for row in range(matrix.shape[0])
        ]


def _properties(case: Case, row: dict[str, PropertyValue]) -> dict[str, object]:
    present = {name: value for name, value in row.items() if value is not None}  # absent = null
    return {"case_id": case.id, "label": case.label, **present, "timestamp": as_utc(case.timestamp)}


def _neighbour(schema: CaseSchema, properties: Mapping[str, Any], distance: float | None) -> Neighbour:
    label, stamp = properties.get("label"), properties.get("timestamp")
    return Neighbour(
        id=str(properties["case_id"]),
        distance=float(distance if distance is not None else "nan"),
        label=None if label is None else int(label),
        properties={**stored_properties(schema, properties), "timestamp": as_utc(stamp) if stamp else None},
    )
