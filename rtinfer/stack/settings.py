"""Settings of the native local stack (Kafka, Redis, Weaviate without Docker)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

KAFKA_VERSION = "4.3.1"
WEAVIATE_VERSION = "v1.38.9"


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
    redis_port: int = 6379
    weaviate_port: int = 8080
    weaviate_grpc_port: int = 50051
    weaviate_gossip_port: int = 7946
    weaviate_data_port: int = 7947
    weaviate_raft_port: int = 8300
    weaviate_raft_rpc_port: int = 8301
    start_timeout_s: float = 90.0
    kafka_version: str = KAFKA_VERSION
    weaviate_version: str = WEAVIATE_VERSION

    @property
    def stack_dir(self) -> Path:
        return self.state_dir or self.cache_dir / "stack"

    @property
    def env_file(self) -> Path:
        return self.stack_dir / "stack.env"

    def service_env(self) -> dict[str, str]:
        """The env settings that tests and services read to find these servers."""
        return {
            "RTINFER_KAFKA_BOOTSTRAP": f"{self.host}:{self.kafka_port}",
            "RTINFER_REDIS_URL": f"redis://{self.host}:{self.redis_port}/0",
            "RTINFER_WEAVIATE_URL": f"http://{self.host}:{self.weaviate_port}",
            "RTINFER_WEAVIATE_GRPC_PORT": str(self.weaviate_grpc_port),
        }
