"""What the vector index adapters share: their settings, query modes, batch checks and the
conversion of case properties to and from what a backend stores (by the CaseSchema's kinds).

No SDK is imported here, so settings can be built (and printed) without loading a client.
"""

from __future__ import annotations

import asyncio
import numbers
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from services.core.ports import Case, CaseSchema, FloatMatrix, PropertyKind, PropertyValue

# Valid as a Weaviate class name and as a Milvus collection name, so one name serves both.
COLLECTION_NAME_PATTERN = r"^[A-Z][_0-9A-Za-z]{0,254}$"

Answer = TypeVar("Answer")


class QueryMode(StrEnum):
    """How a micro-batch of query vectors is sent to the index."""

    SEQUENTIAL = "sequential"  # one request after another
    CONCURRENT = "concurrent"  # one request per vector, up to max_concurrency in flight
    BATCHED = "batched"  # all vectors in one request


class WeaviateIndexSettings(BaseModel):
    """Where and how to reach Weaviate; built by the service's settings."""

    model_config = ConfigDict(frozen=True)

    collection: str = Field(pattern=COLLECTION_NAME_PATTERN)
    url: str = "http://127.0.0.1:8080"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=2.0, gt=0, description="bound on connect and on one search")
    import_timeout_s: float = Field(default=120.0, gt=0, description="bound on one upsert call")
    query_mode: QueryMode = QueryMode.CONCURRENT
    max_concurrency: int = Field(default=16, ge=1)
    import_chunk: int = Field(default=1000, ge=1, description="objects per insert_many request")
    import_concurrency: int = Field(default=2, ge=1, description="insert_many requests in flight")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"expected http(s)://host[:port], got {url!r}")
        return url

    @model_validator(mode="after")
    def _distinct_ports(self) -> WeaviateIndexSettings:
        if self.grpc_port == self.http_port:
            raise ValueError(f"REST and gRPC cannot share port {self.grpc_port} on one host")
        return self

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def secure(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def http_port(self) -> int:
        return urlsplit(self.url).port or (443 if self.secure else 8080)


class MilvusIndexSettings(BaseModel):
    """Where Milvus Lite keeps its data and how to index it."""

    model_config = ConfigDict(frozen=True)

    collection: str = Field(pattern=COLLECTION_NAME_PATTERN)
    path: Path = Field(description="Milvus Lite data location; must end in .db")
    index_type: Literal["FLAT", "IVF_FLAT", "HNSW"] = "FLAT"
    timeout_s: float = Field(default=5.0, gt=0, description="bound on one search")
    import_timeout_s: float = Field(default=120.0, gt=0, description="bound on one upsert call")
    query_mode: QueryMode = QueryMode.BATCHED
    max_concurrency: int = Field(default=4, ge=1)
    flush_on_upsert: bool = Field(
        default=True, description="seal each upsert into an indexed segment (halves search time)"
    )

    @field_validator("path")
    @classmethod
    def _db_suffix(cls, path: Path) -> Path:
        # pymilvus only treats a URI ending in .db as an embedded Milvus Lite location.
        if path.suffix != ".db":
            raise ValueError(f"the Milvus Lite path must end in .db, got {path.name!r}")
        return path


def check_upsert(cases: Sequence[Case], vectors: FloatMatrix) -> FloatMatrix:
    """One vector row per case, float32, and tz-aware timestamps; raise ValueError otherwise."""
    matrix = check_matrix(vectors)
    if len(cases) != matrix.shape[0]:
        raise ValueError(f"{len(cases)} cases but {matrix.shape[0]} vectors")
    for case in cases:
        if case.timestamp.utcoffset() is None:
            raise ValueError(f"case {case.id}: timestamp must be timezone-aware")
    return matrix


def property_rows(
    schema: CaseSchema, cases: Sequence[Case], *, nullable: bool = True
) -> list[dict[str, PropertyValue]]:
    """Each case's properties in schema order, as plain Python values (numpy scalars converted).

    Raises:
        ValueError: a case lacks a schema property or has one the schema does not declare, a
            value does not fit its kind, or (nullable=False) a value is None.
    """
    expected = schema.properties
    rows: list[dict[str, PropertyValue]] = []
    for case in cases:
        given = case.properties
        if given.keys() != expected.keys():
            missing = [name for name in expected if name not in given]
            unknown = [name for name in given if name not in expected]
            problems = ([f"lacks {', '.join(missing)}"] if missing else []) + (
                [f"has undeclared {', '.join(unknown)}"] if unknown else []
            )
            raise ValueError(f"case {case.id}: properties do not fit the case schema: {'; '.join(problems)}")
        rows.append(
            {name: _fitted(case.id, name, kind, given[name], nullable) for name, kind in expected.items()}
        )
    return rows


def stored_properties(schema: CaseSchema, found: Mapping[str, object]) -> dict[str, PropertyValue]:
    """The schema's properties from what a backend returned, typed by kind (None if absent)."""
    return {name: _typed(kind, found.get(name)) for name, kind in schema.properties.items()}


def _fitted(case_id: str, name: str, kind: PropertyKind, value: object, nullable: bool) -> PropertyValue:
    if value is None:
        if nullable:
            return None
        raise ValueError(
            f"case {case_id}: property {name} is None, and this backend stores no missing values"
        )
    flag = isinstance(value, bool | np.bool_)
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "number" and isinstance(value, numbers.Real) and not flag:
        return float(value)
    if kind == "int" and isinstance(value, numbers.Integral) and not flag:
        return int(value)
    if kind == "bool" and flag:
        return bool(value)
    raise ValueError(f"case {case_id}: property {name} must be {kind}, got {type(value).__name__} {value!r}")


def _typed(kind: PropertyKind, value: object) -> PropertyValue:
    if value is None:
        return None
    if kind == "number":
        return float(value)  # type: ignore[arg-type]  # GraphQL sends 784.0 as 784
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    if kind == "bool":
        return bool(value)
    return str(value)


def check_matrix(vectors: FloatMatrix) -> FloatMatrix:
    """A 2-D float32 matrix of finite values."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D matrix of vectors, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors must be finite")
    return matrix


def as_utc(moment: datetime | str) -> datetime:
    """A stored timestamp (datetime or RFC 3339 text) as a tz-aware UTC datetime."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if parsed.tzinfo is None:
        raise ValueError(f"stored timestamp {moment!r} has no offset")
    return parsed.astimezone(UTC)


async def gather_bounded(calls: Sequence[Callable[[], Awaitable[Answer]]], limit: int) -> list[Answer]:
    """Run the calls concurrently, at most `limit` at a time, answers in call order."""
    gate = asyncio.Semaphore(limit)

    async def gated(call: Callable[[], Awaitable[Answer]]) -> Answer:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(gated(call) for call in calls)))
