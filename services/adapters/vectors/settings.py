"""Settings of the vector search: which backend, which collection and case schema, how to reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.adapters.vectors.common import (
    COLLECTION_NAME_PATTERN,
    MilvusIndexSettings,
    QueryMode,
    WeaviateIndexSettings,
)
from services.core.ports import CaseSchema, PropertyKind

Backend = Literal["weaviate", "milvus"]


def default_milvus_path() -> Path:
    """Milvus Lite's file: runtime state under the working directory's var/, like the model and
    the Feast repo (never the download cache); the index creates the folder."""
    return Path("var/vectors/cases.db")


class VectorSettings(BaseSettings):
    """Vector index settings; env prefix ``RTINFER_VECTORS_``.

    The Weaviate address is read from the variables the native stack prints
    (``RTINFER_WEAVIATE_URL``, ``RTINFER_WEAVIATE_GRPC_PORT``, ``RTINFER_WEAVIATE_API_KEY``).
    Leave ``query_mode`` unset to use the mode measured fastest for the backend
    (Weaviate: concurrent gRPC requests; Milvus Lite: one batched request).

    ``case_properties`` is the case schema (property name -> kind), as JSON in
    ``RTINFER_VECTORS_CASE_PROPERTIES``. Unset, the service or tool that builds the settings
    supplies its use case's schema with ``with_default_schema``; the adapters hold no default.
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
    case_properties: dict[str, PropertyKind] | None = Field(
        default=None,
        description="case property name -> text | number | int | bool; unset: the use case's schema",
    )

    @field_validator("case_properties")
    @classmethod
    def _valid_schema(cls, properties: dict[str, PropertyKind] | None) -> dict[str, PropertyKind] | None:
        if properties is not None:
            CaseSchema(properties)  # names and kinds, checked when the settings are read
        return properties

    def case_schema(self) -> CaseSchema:
        """The case schema the index stores and returns.

        Raises:
            ValueError: no schema was configured or supplied.
        """
        if self.case_properties is None:
            raise ValueError(
                "no case schema: set RTINFER_VECTORS_CASE_PROPERTIES (JSON, name -> kind) or build "
                "the settings with with_default_schema(<the use case's CaseSchema>)"
            )
        return CaseSchema(self.case_properties)

    def with_default_schema(self, schema: CaseSchema) -> VectorSettings:
        """These settings with `schema` as the case schema, unless case_properties is already set."""
        if self.case_properties is not None:
            return self
        return self.model_copy(update={"case_properties": dict(schema.properties)})

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
