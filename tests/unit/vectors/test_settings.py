"""Vector settings: env names, secrets masked, per-backend defaults, validated names and paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.adapters.vectors.common import MilvusIndexSettings, QueryMode, WeaviateIndexSettings
from services.adapters.vectors.settings import VectorSettings

pytestmark = pytest.mark.unit


def test_reads_the_stack_weaviate_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_WEAVIATE_URL", "https://vectors.example:8443")
    monkeypatch.setenv("RTINFER_WEAVIATE_GRPC_PORT", "50052")
    monkeypatch.setenv("RTINFER_WEAVIATE_API_KEY", "s3cret")
    monkeypatch.setenv("RTINFER_VECTORS_BACKEND", "weaviate")
    monkeypatch.setenv("RTINFER_VECTORS_K", "7")

    settings = VectorSettings()
    weaviate = settings.weaviate()

    assert (settings.backend, settings.k) == ("weaviate", 7)
    assert (weaviate.host, weaviate.http_port, weaviate.grpc_port, weaviate.secure) == (
        "vectors.example",
        8443,
        50052,
        True,
    )
    assert weaviate.api_key is not None
    assert weaviate.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings) + repr(weaviate)


def test_each_backend_gets_its_fastest_query_mode_unless_told() -> None:
    settings = VectorSettings(milvus_path=Path("cases.db"))

    assert settings.weaviate().query_mode is QueryMode.CONCURRENT
    assert settings.milvus().query_mode is QueryMode.BATCHED
    sequential = VectorSettings(query_mode=QueryMode.SEQUENTIAL, milvus_path=Path("cases.db"))
    assert sequential.milvus().query_mode is QueryMode.SEQUENTIAL


def test_settings_are_frozen() -> None:
    settings = VectorSettings()
    with pytest.raises(ValidationError):
        settings.k = 3  # type: ignore[misc]


@pytest.mark.parametrize("name", ["cases", "1Cases", "Cases-2", ""])
def test_collection_names_must_suit_both_backends(name: str) -> None:
    with pytest.raises(ValidationError):
        VectorSettings(collection=name)


def test_milvus_path_must_end_in_db() -> None:
    with pytest.raises(ValidationError, match=r"\.db"):
        MilvusIndexSettings(collection="Cases", path=Path("cases.sqlite"))


def test_weaviate_url_must_be_http() -> None:
    with pytest.raises(ValidationError, match="http"):
        WeaviateIndexSettings(collection="Cases", url="grpc://127.0.0.1:50051")
    assert WeaviateIndexSettings(collection="Cases", url="http://127.0.0.1").http_port == 8080
    with pytest.raises(ValidationError, match="share port"):
        WeaviateIndexSettings(collection="Cases", url="http://127.0.0.1:9000", grpc_port=9000)
