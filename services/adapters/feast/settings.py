"""Feast settings: which online store, where the registry and batch sources live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FeastSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    online_store: Literal["sqlite", "redis"] = Field(
        default="sqlite", description="sqlite: embedded default; redis: production"
    )
    redis_url: str = Field(
        default_factory=lambda: os.environ.get("RTINFER_REDIS_URL", "redis://127.0.0.1:6379/0"),
        description="Redis online store (fallback RTINFER_REDIS_URL)",
    )
    project: str = "rtinfer"
    repo_dir: Path = Field(
        default=Path("var/feast"), description="registries (one per online store) and the SQLite online store"
    )
    data_dir: Path = Field(default=Path("var/features"), description="batch source parquet files")
    feature_service: str = "fraud_v1"

    def redis_connection_string(self) -> str:
        """Feast's Redis form, host:port,db=N, from a redis:// URL."""
        rest = self.redis_url.split("://", 1)[-1]
        host_port, _, db = rest.partition("/")
        password = ""
        if "@" in host_port:
            credentials, host_port = host_port.rsplit("@", 1)
            password = credentials.split(":", 1)[-1]
        parts = [host_port, f"db={db or 0}"]
        if password:
            parts.append(f"password={password}")
        return ",".join(parts)
