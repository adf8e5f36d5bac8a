"""Feast settings: which online store, where the registry and batch sources live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

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
        """Feast's Redis form, host:port,db=N[,ssl=true][,username=U][,password=P], from a
        redis:// or rediss:// (TLS) URL with an optional ACL user and password."""
        url = urlsplit(self.redis_url)
        if url.scheme not in ("redis", "rediss"):
            raise ValueError(f"redis_url must be redis:// or rediss://, not {url.scheme!r}")
        host = url.hostname or "127.0.0.1"
        db = (url.path or "/").lstrip("/") or "0"
        parts = [f"{host}:{url.port or 6379}", f"db={db}"]
        if url.scheme == "rediss":
            parts.append("ssl=true")
        if url.username:
            parts.append(f"username={unquote(url.username)}")
        if url.password:
            parts.append(f"password={unquote(url.password)}")
        return ",".join(parts)
