"""Building the configured vector index adapter."""

from __future__ import annotations

from services.adapters.vectors.settings import Backend, VectorSettings
from services.core.ports import VectorIndexPort


def make_index(settings: VectorSettings, backend: Backend | None = None) -> VectorIndexPort:
    """The adapter for `backend` (default: settings.backend), not yet connected.

    The SDK is imported here, on demand, so using one backend never loads the other's client.
    """
    chosen = backend or settings.backend
    if chosen == "weaviate":
        from services.adapters.vectors.weaviate_index import WeaviateIndex

        return WeaviateIndex(settings.weaviate())
    if chosen == "milvus":
        from services.adapters.vectors.milvus_index import MilvusLiteIndex

        return MilvusLiteIndex(settings.milvus())
    raise ValueError(f"unknown vector backend {chosen!r}")
