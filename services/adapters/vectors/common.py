"""What the vector index adapters share: their settings, query modes and batch checks.

No SDK is imported here, so settings can be built (and printed) without loading a client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from services.core.ports import Case, FloatMatrix

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
