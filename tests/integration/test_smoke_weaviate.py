"""Smoke test d: a real Weaviate finds a planted vector over gRPC."""

from __future__ import annotations

import numpy as np
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Vectorizers
from weaviate.classes.data import DataObject
from weaviate.classes.query import MetadataQuery

from tests.servers import WeaviateEndpoint

DIMENSIONS = 16


def test_d_near_vector_finds_planted(weaviate_server: WeaviateEndpoint, unique_name: str) -> None:
    collection_name = "T" + unique_name.replace("-", "_")[2:]
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(1000, DIMENSIONS)).astype(np.float32)
    planted_index = 613
    client = weaviate.connect_to_local(
        host=weaviate_server.http_host, port=weaviate_server.http_port, grpc_port=weaviate_server.grpc_port
    )
    try:
        collection = client.collections.create(
            collection_name,
            vector_config=Configure.Vectors.self_provided(vector_index_config=Configure.VectorIndex.hnsw()),
            properties=[Property(name="case_id", data_type=DataType.TEXT)],
        )
        result = collection.data.insert_many(
            [DataObject(properties={"case_id": f"case-{i}"}, vector=vectors[i].tolist()) for i in range(1000)]
        )
        assert not result.has_errors, result.errors
        assert len(collection) == 1000

        query = vectors[planted_index] + rng.normal(scale=1e-3, size=DIMENSIONS).astype(np.float32)
        found = collection.query.near_vector(
            query.tolist(), limit=3, return_metadata=MetadataQuery(distance=True)
        )
        assert found.objects[0].properties["case_id"] == f"case-{planted_index}"
        assert found.objects[0].metadata.distance is not None
        assert found.objects[0].metadata.distance < found.objects[1].metadata.distance
        vector_config = collection.config.get().vector_config
        assert vector_config is not None
        assert vector_config["default"].vectorizer.vectorizer == Vectorizers.NONE
        assert type(vector_config["default"].vector_index_config).__name__.endswith("HNSW")
    finally:
        client.collections.delete(collection_name)
        client.close()
