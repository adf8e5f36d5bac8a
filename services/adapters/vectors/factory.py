"""Building the configured vector index adapter."""

from __future__ import annotations

from services.adapters.vectors.settings import Backend, VectorSettings
from services.core.ports import VectorIndexPort


def make_index(settings: VectorSettings, backend: Backend | None = None) -> VectorIndexPort:
    """The adapter for `backend` (default: settings.backend), not yet connected, storing and
    returning the case schema of the settings (see VectorSettings.with_default_schema).

    The SDK is imported here, on demand, so using one backend never loads the other's client.

    Raises:
        ValueError: the settings carry no case schema, or the backend is unknown.
    """
    chosen = backend or settings.backend
    if chosen not in ("weaviate", "milvus"):
        raise ValueError(f"unknown vector backend {chosen!r}")
    schema = settings.case_schema()
    if chosen == "weaviate":
        from services.adapters.vectors.weaviate_index import WeaviateIndex

        return WeaviateIndex(settings.weaviate(), schema)
    from services.adapters.vectors.milvus_index import MilvusLiteIndex

    return MilvusLiteIndex(settings.milvus(), schema)
