"""Shared fixtures: real servers resolved once per session, unique names per test."""

from __future__ import annotations

import contextlib
import re
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.scoring_env import ScoringEnv, scoring_env
from tests.servers import (
    KafkaEndpoint,
    NativeStack,
    RedisEndpoint,
    WeaviateEndpoint,
    kafka_endpoint,
    redis_endpoint,
    session_servers,
    weaviate_endpoint,
)


@pytest.fixture(scope="session")
def _servers() -> Iterator[tuple[NativeStack, contextlib.ExitStack]]:
    with session_servers() as servers:
        yield servers


@pytest.fixture(scope="session")
def kafka(_servers: tuple[NativeStack, contextlib.ExitStack]) -> KafkaEndpoint:
    return kafka_endpoint(*_servers)


@pytest.fixture(scope="session")
def redis_server(_servers: tuple[NativeStack, contextlib.ExitStack]) -> RedisEndpoint:
    return redis_endpoint(*_servers)


@pytest.fixture(scope="session")
def weaviate_server(_servers: tuple[NativeStack, contextlib.ExitStack]) -> WeaviateEndpoint:
    return weaviate_endpoint(*_servers)


@pytest.fixture(scope="session")
def env(
    kafka: KafkaEndpoint,
    redis_server: RedisEndpoint,
    weaviate_server: WeaviateEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ScoringEnv]:
    """One real scoring environment (Feast on Redis, trained model served by KServe, cases in
    Weaviate) for the whole session, shared by the integration and chaos suites; every test
    still gets its own topics and group."""
    name = f"t-env-{uuid.uuid4().hex[:8]}"
    with scoring_env(name, kafka, redis_server, weaviate_server, tmp_path_factory.mktemp("scoring")) as built:
        yield built


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name no other test uses: for topics, groups, collections, feature views."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-").lower()[:40]
    return f"t-{slug}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests under tests/integration and tests/e2e carry their marker without repeating it.
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/tests/unit/" in path:
            item.add_marker(pytest.mark.unit)
        elif "/tests/chaos/" in path:
            item.add_marker(pytest.mark.chaos)
