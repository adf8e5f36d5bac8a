"""Settings of the vector search: which backend, which collection, how to reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.adapters.vectors.common import (
    COLLECTION_NAME_PATTERN,
    MilvusIndexSettings,
    QueryMode,
    WeaviateIndexSettings,
)

Backend = Literal["weaviate", "milvus"]


def default_milvus_path() -> Path:
    """Milvus Lite data outside the checkout, next to the native stack's cache."""
    return Path.home() / ".cache" / "rtinfer" / "vectors" / "cases.db"


class VectorSettings(BaseSettings):
    """Vector index settings; env prefix ``RTINFER_VECTORS_``.

    The Weaviate address is read from the variables the native stack prints
    (``RTINFER_WEAVIATE_URL``, ``RTINFER_WEAVIATE_GRPC_PORT``, ``RTINFER_WEAVIATE_API_KEY``).
    Leave ``query_mode`` unset to use the mode measured fastest for the backend
    (Weaviate: concurrent gRPC requests; Milvus Lite: one batched request).
    """

    model_config = SettingsConfigDict(env_prefix="RTINFER_VECTORS_", frozen=True, populate_by_name=True)

    backend: Backend = Field(default="milvus", description="milvus runs embedded, weaviate is a server")
    collection: str = Field(default="PaymentCases", pattern=COLLECTION_NAME_PATTERN)
    k: int = Field(default=5, ge=1, le=100, description="neighbours per query")
    timeout_s: float = Field(default=2.0, gt=0, description="bound on one micro-batch search")
    import_timeout_s: float = Field(default=120.0, gt=0, description="bound on one upsert call")
    import_batch_size: int = Field(
        default=4000,
        ge=1,
        description="cases per upsert call (Weaviate sends it as 1000-object chunks, 2 in flight)",
    )
    query_mode: QueryMode | None = None
    max_concurrency: int = Field(default=16, ge=1, description="requests in flight (concurrent mode)")

    weaviate_url: str = Field(
        default="http://127.0.0.1:8080",
        validation_alias=AliasChoices("weaviate_url", "RTINFER_WEAVIATE_URL"),
    )
    weaviate_grpc_port: int = Field(
        default=50051,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("weaviate_grpc_port", "RTINFER_WEAVIATE_GRPC_PORT"),
    )
    weaviate_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("weaviate_api_key", "RTINFER_WEAVIATE_API_KEY"),
    )

    milvus_path: Path = Field(default_factory=default_milvus_path, description="must end in .db")
    milvus_index_type: Literal["FLAT", "IVF_FLAT", "HNSW"] = "FLAT"

    def weaviate(self) -> WeaviateIndexSettings:
        """The Weaviate adapter's settings."""
        return WeaviateIndexSettings(
            collection=self.collection,
            url=self.weaviate_url,
            grpc_port=self.weaviate_grpc_port,
            api_key=self.weaviate_api_key,
            timeout_s=self.timeout_s,
            import_timeout_s=self.import_timeout_s,
            query_mode=self.query_mode or QueryMode.CONCURRENT,
            max_concurrency=self.max_concurrency,
        )

    def milvus(self) -> MilvusIndexSettings:
        """The Milvus Lite adapter's settings."""
        return MilvusIndexSettings(
            collection=self.collection,
            path=self.milvus_path,
            index_type=self.milvus_index_type,
            timeout_s=self.timeout_s,
            import_timeout_s=self.import_timeout_s,
            query_mode=self.query_mode or QueryMode.BATCHED,
            max_concurrency=self.max_concurrency,
        )
