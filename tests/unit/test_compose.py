"""docker-compose.yml and the native stack agree on servers and ports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rtinfer.stack.settings import JAEGER_RELEASE, KAFKA_VERSION, WEAVIATE_VERSION, StackSettings

pytestmark = pytest.mark.unit
COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# A required interpolation: compose refuses to start while the variable is unset or empty.
REQUIRED = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$")
# Names of environment variables that hold a credential.
CREDENTIAL = re.compile(r"(PASSWORD|SECRET|TOKEN|API_?KEYS?|ALLOWED_KEYS)$")


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
    # Jaeger: the UI and query API, and both OTLP receivers (for services running on the host).
    assert _published(services["jaeger"]) == {
        _default("jaeger_port"),
        _default("jaeger_otlp_grpc_port"),
        _default("jaeger_otlp_http_port"),
    }


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
    for name in ("kafka", "redis", "weaviate", "jaeger"):
        assert "healthcheck" in services[name], f"{name} needs a healthcheck"


def test_compose_jaeger_is_the_native_release() -> None:
    """The image is the v2 release of the Go module version the native stack builds, and its
    healthcheck asks the collector's healthcheckv2 on the port the native config uses."""
    jaeger = yaml.safe_load(COMPOSE.read_text())["services"]["jaeger"]
    assert jaeger["image"] == f"jaegertracing/jaeger:{JAEGER_RELEASE}"
    assert JAEGER_RELEASE.startswith("2.") and StackSettings.model_fields[
        "jaeger_version"
    ].default.startswith("v1.")
    probe = " ".join(jaeger["healthcheck"]["test"])
    assert f"http://127.0.0.1:{_default('jaeger_health_port')}/status" in probe


def test_compose_kafka_advertises_the_bootstrap_tests_use() -> None:
    kafka_env = yaml.safe_load(COMPOSE.read_text())["services"]["kafka"]["environment"]
    bootstrap = f"127.0.0.1:{_default('kafka_port')}"
    assert f"PLAINTEXT://{bootstrap}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]


def required_variable(value: object) -> str | None:
    """The variable a `${NAME:?message}` value requires, else None."""
    match = REQUIRED.match(str(value))
    return match["name"] if match else None


def test_no_credential_is_written_down_or_defaulted() -> None:
    """Every credential in the file is a required variable: no literal, no `${NAME:-default}`."""
    text = COMPOSE.read_text()
    services = yaml.safe_load(text)["services"]
    for name, service in services.items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: environment as a mapping, please"
        for key, value in environment.items():
            if CREDENTIAL.search(key):
                assert required_variable(value), f"{name}: {key} must be ${{VARIABLE:?message}}"
    defaults = re.findall(r"\$\{([A-Za-z0-9_]+):?-", text)
    assert not [variable for variable in defaults if CREDENTIAL.search(variable)], defaults


def test_weaviate_admits_no_anonymous_client() -> None:
    environment = yaml.safe_load(COMPOSE.read_text())["services"]["weaviate"]["environment"]
    assert environment["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "false"
    assert environment["AUTHENTICATION_APIKEY_ENABLED"] == "true"
    assert required_variable(environment["AUTHENTICATION_APIKEY_ALLOWED_KEYS"]) == "WEAVIATE_API_KEY"
    users = environment["AUTHENTICATION_APIKEY_USERS"].split(",")
    assert len(users) == 1, "one key, one user (Weaviate pairs them by position)"
    assert environment["AUTHORIZATION_RBAC_ENABLED"] == "true"
    assert environment["AUTHORIZATION_RBAC_ROOT_USERS"].split(",") == users
    # The healthcheck stays on the unauthenticated well-known endpoint.
    assert "/v1/.well-known/ready" in " ".join(
        yaml.safe_load(COMPOSE.read_text())["services"]["weaviate"]["healthcheck"]["test"]
    )
