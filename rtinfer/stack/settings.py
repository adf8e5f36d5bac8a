"""Settings of the native local stack (Kafka, Redis, Weaviate, optionally Jaeger; no Docker)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

KAFKA_VERSION = "4.3.1"
KAFKA_SASL_MECHANISM = "SCRAM-SHA-512"  # the one mechanism of the optional secured listeners
WEAVIATE_VERSION = "v1.38.9"
# Jaeger's Go module tags each release twice: v1.76.0 is the same source as Jaeger v2.13.0,
# the version of the jaegertracing/jaeger image docker-compose.yml runs.
JAEGER_VERSION = "v1.76.0"
JAEGER_RELEASE = "2.13.0"


def default_cache_dir() -> Path:
    """The folder for downloads and builds that outlive a checkout."""
    return Path.home() / ".cache" / "rtinfer"


class StackSettings(BaseSettings):
    """Ports, folders and versions of the native stack; env prefix ``RTINFER_STACK_``.

    Defaults are the servers' usual ports, the same ones docker-compose.yml publishes.
    """

    model_config = SettingsConfigDict(env_prefix="RTINFER_STACK_", frozen=True)

    cache_dir: Path = Field(default_factory=default_cache_dir)
    state_dir: Path | None = Field(
        default=None, description="data, logs and pid files; default <cache_dir>/stack"
    )
    host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = Field(default="768m", description="JVM -Xmx for the broker (<= 1g)")
    kafka_sasl_port: int = Field(
        default=0, description="SASL_PLAINTEXT listener (SCRAM-SHA-512) next to PLAINTEXT; 0 = off"
    )
    kafka_sasl_ssl_port: int = Field(
        default=0, description="SASL_SSL listener (SCRAM-SHA-512 over TLS) next to PLAINTEXT; 0 = off"
    )
    kafka_sasl_username: str = Field(
        default="rtinfer", pattern=r"^[A-Za-z0-9._-]+$", description="the SCRAM user made at format time"
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="its password; default: generated once into <state_dir>/secrets/kafka-sasl-password",
    )
    redis_port: int = 6379
    weaviate_port: int = 8080
    weaviate_grpc_port: int = 50051
    weaviate_gossip_port: int = 7946
    weaviate_data_port: int = 7947
    weaviate_raft_port: int = 8300
    weaviate_raft_rpc_port: int = 8301
    jaeger: bool = Field(
        default=False, description="also run Jaeger (in-memory traces backend); same as `up --with jaeger`"
    )
    jaeger_port: int = Field(default=16686, description="Jaeger's UI and HTTP query API")
    jaeger_query_grpc_port: int = Field(default=16685, description="Jaeger's gRPC query API")
    jaeger_otlp_grpc_port: int = Field(default=4317, description="OTLP/gRPC receiver")
    jaeger_otlp_http_port: int = Field(
        default=4318, description="OTLP/HTTP receiver (what services export to)"
    )
    jaeger_health_port: int = Field(default=13133, description="healthcheckv2's /status")
    jaeger_max_traces: int = Field(default=100_000, ge=1, description="traces kept in memory")
    start_timeout_s: float = 90.0
    kafka_version: str = KAFKA_VERSION
    weaviate_version: str = WEAVIATE_VERSION
    jaeger_version: str = Field(default=JAEGER_VERSION, description="a tag of the Go module (v1.x)")

    @property
    def stack_dir(self) -> Path:
        return self.state_dir or self.cache_dir / "stack"

    @property
    def env_file(self) -> Path:
        return self.stack_dir / "stack.env"

    @property
    def kafka_secured(self) -> bool:
        """True when either secured Kafka listener is on."""
        return bool(self.kafka_sasl_port or self.kafka_sasl_ssl_port)

    @property
    def tls_dir(self) -> Path:
        """The broker's keystore and the CA clients trust (made once, see rtinfer.stack.tls)."""
        return self.stack_dir / "tls"

    @property
    def kafka_ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def kafka_sasl_password_file(self) -> Path:
        return self.stack_dir / "secrets" / "kafka-sasl-password"

    def kafka_scram_password(self) -> SecretStr:
        """The SCRAM user's password: the setting, else the one generated for this state dir."""
        if self.kafka_sasl_password is not None:
            return self.kafka_sasl_password
        return SecretStr(generated_secret(self.kafka_sasl_password_file))

    @property
    def otlp_endpoint(self) -> str:
        """Jaeger's OTLP/HTTP receiver: the base URL exporters append /v1/traces to."""
        return f"http://{self.host}:{self.jaeger_otlp_http_port}"

    @property
    def jaeger_query_url(self) -> str:
        """Jaeger's UI; its HTTP query APIs live under /api and /api/v3."""
        return f"http://{self.host}:{self.jaeger_port}"

    def service_env(self, jaeger: bool | None = None) -> dict[str, str]:
        """The env settings that tests and services read to find these servers.

        With secured listeners on, also where they are and how to log in: the password's file,
        never the password (that one is written to stack.env and printed by `stack env`).
        With Jaeger (`jaeger`, default the setting), also where to export spans and the query URL.
        """
        env = {
            "RTINFER_KAFKA_BOOTSTRAP": f"{self.host}:{self.kafka_port}",
            "RTINFER_REDIS_URL": f"redis://{self.host}:{self.redis_port}/0",
            "RTINFER_WEAVIATE_URL": f"http://{self.host}:{self.weaviate_port}",
            "RTINFER_WEAVIATE_GRPC_PORT": str(self.weaviate_grpc_port),
        }
        if self.kafka_sasl_port:
            env["RTINFER_KAFKA_SASL_BOOTSTRAP"] = f"{self.host}:{self.kafka_sasl_port}"
        if self.kafka_sasl_ssl_port:
            env["RTINFER_KAFKA_SASL_SSL_BOOTSTRAP"] = f"{self.host}:{self.kafka_sasl_ssl_port}"
            env["RTINFER_KAFKA_SSL_CAFILE"] = str(self.kafka_ca_file)
        if self.kafka_secured:
            env["RTINFER_KAFKA_SASL_MECHANISM"] = KAFKA_SASL_MECHANISM
            env["RTINFER_KAFKA_SASL_USERNAME"] = self.kafka_sasl_username
            if self.kafka_sasl_password is None:
                env["RTINFER_KAFKA_SASL_PASSWORD_FILE"] = str(self.kafka_sasl_password_file)
        if self.jaeger if jaeger is None else jaeger:
            env.update(self.jaeger_env())
        return env

    def jaeger_env(self) -> dict[str, str]:
        """Where spans go (the scoring service reads RTINFER_SCORING_OTLP_ENDPOINT; the shared
        RTINFER_OTLP_ENDPOINT is for other tools and tests) and where to read them back."""
        return {
            "RTINFER_OTLP_ENDPOINT": self.otlp_endpoint,
            "RTINFER_SCORING_OTLP_ENDPOINT": self.otlp_endpoint,
            "RTINFER_JAEGER_QUERY_URL": self.jaeger_query_url,
        }


def generated_secret(path: Path) -> str:
    """The secret kept in `path` (owner-only), generated there the first time."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as sink:
        sink.write(value + "\n")
    try:
        os.link(partial, path)  # first writer wins when two start at once
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return path.read_text().strip()
