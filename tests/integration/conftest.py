"""Integration fixtures shared by the scoring tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.integration.scoring_env import ScoringEnv, scoring_env
from tests.servers import KafkaEndpoint, RedisEndpoint, WeaviateEndpoint


@pytest.fixture(scope="session")
def env(
    kafka: KafkaEndpoint,
    redis_server: RedisEndpoint,
    weaviate_server: WeaviateEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ScoringEnv]:
    """One real scoring environment (Feast on Redis, trained model served by KServe, cases in
    Weaviate) for the whole session; every test still gets its own topics and group."""
    name = f"t-env-{uuid.uuid4().hex[:8]}"
    with scoring_env(name, kafka, redis_server, weaviate_server, tmp_path_factory.mktemp("scoring")) as built:
        yield built


# The model server fixtures (module scope: each test module gets its own server).
from tests.integration.model_server_fixtures import artifact_dir, server  # noqa: E402, F401
