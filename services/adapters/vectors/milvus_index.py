"""VectorIndexPort on Milvus Lite, embedded: a local .db location, no server to run.

pymilvus is synchronous (and Milvus Lite runs its engine in threads of this process), so every
call goes through asyncio.to_thread: the event loop keeps serving while a search runs.
Metric `L2`: Milvus reports the squared Euclidean distance, as Weaviate's `l2-squared` does.
The collection holds id, vector, label, the CaseSchema's properties and timestamp; searches
return exactly those. Fields are not nullable, so a property value cannot be None here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from grpc import RpcError
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import (
    DataNotMatchException,
    DataTypeNotMatchException,
    MilvusException,
    ParamError,
    PrimaryKeyException,
)

from services.adapters.vectors.common import (
    MilvusIndexSettings,
    QueryMode,
    as_utc,
    check_matrix,
    check_upsert,
    gather_bounded,
    property_rows,
    stored_properties,
)
from services.core.errors import BadRequestError, DependencyError, DependencyUnavailable
from services.core.ports import Case, CaseSchema, FloatMatrix, Neighbour, PropertyKind, PropertyValue

DEPENDENCY = "milvus"
ID_LENGTH = 512  # bytes, for the case id and every text property
DATA_TYPES: dict[PropertyKind, DataType] = {
    "text": DataType.VARCHAR,
    "number": DataType.DOUBLE,
    "int": DataType.INT64,
    "bool": DataType.BOOL,
}
FAILURES = (MilvusException, RpcError, OSError, TimeoutError)

Answer = TypeVar("Answer")


def as_dependency_error(error: BaseException) -> DependencyError:
    """Classify a failure: malformed input is final, everything else may pass."""
    if isinstance(
        error, ParamError | DataTypeNotMatchException | DataNotMatchException | PrimaryKeyException
    ):
        return BadRequestError(DEPENDENCY, str(error))
    if isinstance(error, TimeoutError):
        return DependencyUnavailable(DEPENDENCY, "timed out")
    return DependencyUnavailable(DEPENDENCY, f"{type(error).__name__}: {error}")


class MilvusLiteIndex:
    """Similar past cases in one Milvus Lite collection; opens the local store on first use.

    `schema` decides the collection's fields (at creation) and what a search returns.
    """

    def __init__(self, settings: MilvusIndexSettings, schema: CaseSchema) -> None:
        self.settings = settings
        self.schema = schema
        self._returned = ["label", *schema.names, "timestamp"]
        self._client: MilvusClient | None = None
        self._opening = asyncio.Lock()

    async def connect(self) -> None:
        """Open (or create) the local store; idempotent."""
        await self._connected()

    async def ensure_collection(self, dimensions: int) -> None:
        """Create the collection with its index if missing; refuse one of other dimensions or
        one lacking a schema property (or holding it as another type)."""
        client = await self._connected()
        name = self.settings.collection
        if not await self._call(partial(client.has_collection, name)):
            await self._call(partial(self._create, client, dimensions))
            return
        description = await self._call(partial(client.describe_collection, name))
        stored = _vector_dimensions(description)
        if stored != dimensions:
            raise BadRequestError(
                DEPENDENCY, f"collection {name} holds {stored}-d vectors, not {dimensions}-d"
            )
        misfits = _schema_misfits(self.schema, description)
        if misfits:
            raise BadRequestError(
                DEPENDENCY, f"collection {name} does not fit the case schema: {', '.join(misfits)}"
            )
        await self._call(partial(client.load_collection, name))

    async def upsert(self, cases: Sequence[Case], vectors: FloatMatrix) -> int:
        """Insert or replace the cases (the case id is the primary key) in one request."""
        matrix = check_upsert(cases, vectors)
        properties = property_rows(self.schema, cases, nullable=False)
        if not cases:
            return 0
        client = await self._connected()
        rows = [
            _row(case, values, vector) for case, values, vector in zip(cases, properties, matrix, strict=True)
        ]
        upsert = partial(
            client.upsert, self.settings.collection, rows, timeout=self.settings.import_timeout_s
        )
        answer = await self._call(upsert, self.settings.import_timeout_s)
        if self.settings.flush_on_upsert:
            await self.flush()
        return int(answer.get("upsert_count", len(rows)))

    async def search(self, vectors: FloatMatrix, k: int) -> list[list[Neighbour]]:
        """The k nearest cases per row; the whole micro-batch is bounded by timeout_s."""
        matrix = check_matrix(vectors)
        if matrix.shape[0] == 0:
            return []
        client = await self._connected()
        rows = matrix.tolist()
        mode = self.settings.query_mode
        if mode is QueryMode.BATCHED:
            return await self._call(partial(self._search, client, rows, k))
        calls = [partial(self._call, partial(self._search, client, [row], k)) for row in rows]
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                if mode is QueryMode.SEQUENTIAL:
                    answers = [await call() for call in calls]
                else:
                    answers = await gather_bounded(calls, self.settings.max_concurrency)
        except TimeoutError as error:
            raise as_dependency_error(error) from error
        return [neighbours for answer in answers for neighbours in answer]

    async def flush(self) -> None:
        """Seal written rows into indexed segments (searches over sealed rows are faster)."""
        client = await self._connected()
        await self._call(partial(client.flush, self.settings.collection), self.settings.import_timeout_s)

    async def count(self) -> int:
        """How many cases the collection holds."""
        client = await self._connected()
        query = partial(client.query, self.settings.collection, output_fields=["count(*)"])
        answer = await self._call(query)
        return int(answer[0]["count(*)"])

    async def drop_collection(self) -> None:
        """Delete the collection and everything in it (tests and benchmarks clean up)."""
        client = await self._connected()
        await self._call(partial(client.drop_collection, self.settings.collection))

    async def close(self) -> None:
        # The embedded engine itself stays up until the process exits (pymilvus shares one per
        # path); closing releases this client's connection.
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    async def _connected(self) -> MilvusClient:
        async with self._opening:
            if self._client is None:
                self._client = await self._call(self._open, self.settings.import_timeout_s)
            return self._client

    def _open(self) -> MilvusClient:
        path = self.settings.path
        path.parent.mkdir(parents=True, exist_ok=True)
        client = MilvusClient(str(path), timeout=self.settings.timeout_s)
        # A collection another process released must be loaded before it can be searched.
        if client.has_collection(self.settings.collection):
            client.load_collection(self.settings.collection)
        return client

    async def _call(self, call: Callable[[], Answer], timeout_s: float | None = None) -> Answer:
        try:
            async with asyncio.timeout(timeout_s or self.settings.timeout_s):
                return await asyncio.to_thread(call)
        except FAILURES as error:
            raise as_dependency_error(error) from error

    def _create(self, client: MilvusClient, dimensions: int) -> None:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_LENGTH)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimensions)
        schema.add_field("label", DataType.INT64)
        for name, kind in self.schema.properties.items():
            if kind == "text":
                schema.add_field(name, DataType.VARCHAR, max_length=ID_LENGTH)
            else:
                schema.add_field(name, DATA_TYPES[kind])
        schema.add_field("timestamp", DataType.TIMESTAMPTZ)
        index_params = client.prepare_index_params()
        index_params.add_index(
            field_name="vector",
            index_type=self.settings.index_type,
            metric_type="L2",
            params={"nlist": 128} if self.settings.index_type == "IVF_FLAT" else {},
        )
        client.create_collection(self.settings.collection, schema=schema, index_params=index_params)

    def _search(self, client: MilvusClient, rows: list[list[float]], k: int) -> list[list[Neighbour]]:
        answer = client.search(
            self.settings.collection,
            data=rows,
            limit=k,
            output_fields=self._returned,
            search_params={"metric_type": "L2"},
            timeout=self.settings.timeout_s,
        )
        return [[_neighbour(self.schema, hit) for hit in hits] for hits in answer]


def _row(case: Case, properties: dict[str, PropertyValue], vector: FloatMatrix) -> dict[str, object]:
    for name, value in properties.items():
        if isinstance(value, str) and len(value.encode()) > ID_LENGTH:
            raise ValueError(f"case {case.id}: property {name} is longer than {ID_LENGTH} bytes")
    return {
        "id": case.id,
        "vector": vector.tolist(),
        "label": case.label,
        **properties,
        "timestamp": as_utc(case.timestamp).isoformat(),
    }


def _neighbour(schema: CaseSchema, hit: dict[str, Any]) -> Neighbour:
    entity = hit.get("entity", {})
    label = entity.get("label")
    stamp = entity.get("timestamp")
    return Neighbour(
        id=str(hit["id"]),
        distance=float(hit["distance"]),
        label=None if label is None else int(label),
        properties={**stored_properties(schema, entity), "timestamp": as_utc(stamp) if stamp else None},
    )


def _schema_misfits(schema: CaseSchema, description: dict[str, Any]) -> list[str]:
    """Schema properties the collection lacks or holds as another type."""
    stored = {field.get("name"): field.get("type") for field in description.get("fields", [])}
    misfits = []
    for name, kind in schema.properties.items():
        if name not in stored:
            misfits.append(f"no field {name}")
        elif stored[name] != DATA_TYPES[kind]:
            misfits.append(
                f"{name} is {getattr(stored[name], 'name', stored[name])}, not {DATA_TYPES[kind].name}"
            )
    return misfits


def _vector_dimensions(description: dict[str, Any]) -> int | None:
    for field in description.get("fields", []):
        if field.get("name") == "vector":
            return int(field.get("params", {}).get("dim", 0))
    return None
