"""Finding the real servers for integration tests.

Order per server: an env var pointing at a running one; else testcontainers when a Docker
daemon answers; else the native stack (`rtinfer stack`). With RTINFER_REQUIRE_SERVICES=1 a
server that cannot be had fails the run instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from rtinfer.stack.manager import Stack
from rtinfer.stack.process import StackError
from rtinfer.stack.settings import StackSettings


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap: str
    origin: str


@dataclass(frozen=True)
class RedisEndpoint:
    url: str
    origin: str


@dataclass(frozen=True)
class WeaviateEndpoint:
    http_host: str
    http_port: int
    grpc_port: int
    origin: str


def services_required() -> bool:
    return os.environ.get("RTINFER_REQUIRE_SERVICES", "") == "1"


def unavailable(what: str, why: str) -> None:
    message = f"{what} unavailable: {why}"
    if services_required():
        pytest.fail(f"{message} (RTINFER_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    done = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.returncode == 0


class NativeStack:
    """Starts the native servers a test session asks for; stops only those it started."""

    def __init__(self) -> None:
        self.settings = StackSettings()
        self.started: list[str] = []

    def ensure(self, name: str) -> StackSettings:
        stack = Stack(self.settings, only=[name])
        try:
            self.started += stack.up()
        except StackError as error:
            unavailable(name, f"native stack could not start it: {error}")
        return self.settings

    def close(self) -> None:
        if self.started:
            Stack(self.settings, only=self.started).down()


def kafka_endpoint(native: NativeStack, stack: contextlib.ExitStack) -> KafkaEndpoint:
    if bootstrap := os.environ.get("RTINFER_KAFKA_BOOTSTRAP"):
        return KafkaEndpoint(bootstrap, "env")
    if docker_answers():
        from testcontainers.kafka import KafkaContainer

        container = stack.enter_context(KafkaContainer("apache/kafka:4.1.0").with_kraft())
        return KafkaEndpoint(container.get_bootstrap_server(), "testcontainers")
    settings = native.ensure("kafka")
    return KafkaEndpoint(settings.service_env()["RTINFER_KAFKA_BOOTSTRAP"], "native")


def redis_endpoint(native: NativeStack, stack: contextlib.ExitStack) -> RedisEndpoint:
    if url := os.environ.get("RTINFER_REDIS_URL"):
        return RedisEndpoint(url, "env")
    if docker_answers():
        from testcontainers.redis import RedisContainer

        container = stack.enter_context(RedisContainer("redis:7.4"))
        host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
        return RedisEndpoint(f"redis://{host}:{port}/0", "testcontainers")
    settings = native.ensure("redis")
    return RedisEndpoint(settings.service_env()["RTINFER_REDIS_URL"], "native")


def weaviate_endpoint(native: NativeStack, stack: contextlib.ExitStack) -> WeaviateEndpoint:
    if url := os.environ.get("RTINFER_WEAVIATE_URL"):
        host_port = url.split("://", 1)[-1].rstrip("/")
        host, _, port = host_port.partition(":")
        grpc_port = int(os.environ.get("RTINFER_WEAVIATE_GRPC_PORT", "50051"))
        return WeaviateEndpoint(host, int(port or 8080), grpc_port, "env")
    if docker_answers():
        from testcontainers.weaviate import WeaviateContainer

        container = stack.enter_context(WeaviateContainer("semitechnologies/weaviate:1.38.9"))
        return WeaviateEndpoint(
            container.get_container_host_ip(),
            int(container.get_exposed_port(8080)),
            int(container.get_exposed_port(50051)),
            "testcontainers",
        )
    settings = native.ensure("weaviate")
    return WeaviateEndpoint(settings.host, settings.weaviate_port, settings.weaviate_grpc_port, "native")


@contextlib.contextmanager
def session_servers() -> Iterator[tuple[NativeStack, contextlib.ExitStack]]:
    native = NativeStack()
    with contextlib.ExitStack() as stack:
        try:
            yield native, stack
        finally:
            native.close()
