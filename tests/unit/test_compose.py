"""docker-compose.yml and the native stack agree on servers and ports."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rtinfer.stack.settings import KAFKA_VERSION, WEAVIATE_VERSION, StackSettings

pytestmark = pytest.mark.unit
COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _published(service: dict[str, object]) -> set[int]:
    ports = set()
    for mapping in service.get("ports", []):  # type: ignore[attr-defined]
        host_ip, host_port, _container = str(mapping).split(":")
        assert host_ip == "127.0.0.1", f"{mapping} must bind loopback only"
        ports.add(int(host_port))
    return ports


def test_compose_servers_match_native_defaults() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"kafka", "redis", "weaviate"} <= set(services)
    assert _published(services["kafka"]) == {_default("kafka_port")}
    assert _published(services["redis"]) == {_default("redis_port")}
    assert _published(services["weaviate"]) == {_default("weaviate_port"), _default("weaviate_grpc_port")}


def _default(field: str) -> int:
    # The documented default, whatever RTINFER_STACK_* says on this machine.
    return int(StackSettings.model_fields[field].default)


def test_compose_images_match_native_versions() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert services["weaviate"]["image"] == f"semitechnologies/weaviate:{WEAVIATE_VERSION.lstrip('v')}"
    assert services["redis"]["image"].startswith("redis:")
    weaviate_env = services["weaviate"]["environment"]
    assert weaviate_env["DEFAULT_VECTORIZER_MODULE"] == "none"
    for name in ("kafka", "redis", "weaviate"):
        assert "healthcheck" in services[name], f"{name} needs a healthcheck"


def test_compose_kafka_advertises_the_bootstrap_tests_use() -> None:
    kafka_env = yaml.safe_load(COMPOSE.read_text())["services"]["kafka"]["environment"]
    bootstrap = f"127.0.0.1:{_default('kafka_port')}"
    assert f"PLAINTEXT://{bootstrap}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
