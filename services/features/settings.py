"""Settings of the streaming feature writer (env prefix RTINFER_FEATURES_, nested with __)."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.settings import KafkaSettings


class FeatureWriterSettings(BaseSettings):
    """Everything the feature writer reads; built once in its entry point."""

    model_config = SettingsConfigDict(
        env_prefix="RTINFER_FEATURES_", env_nested_delimiter="__", frozen=True, populate_by_name=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    feast: FeastSettings = Field(default_factory=FeastSettings)
    state_redis_url: str = Field(
        default_factory=lambda: os.environ.get("RTINFER_REDIS_URL", "redis://127.0.0.1:6379/0"),
        description="Redis for the rolling card state (fallback RTINFER_REDIS_URL)",
    )
    state_prefix: str = Field(default="rtinfer:features", description="key prefix of the card state")
    payments_topic: str = "payments"
    dlq_topic: str = "payments.features.dlq"
    group_id: str = "rtinfer-features"
    max_records: int = Field(default=500, ge=1, description="records per micro-batch")
    batch_timeout_ms: int = Field(default=100, ge=1, description="max wait to fill a micro-batch")
    max_event_bytes: int = 65536
    late_tolerance_s: float = Field(
        default=86400.0, description="how late an event may arrive and still count"
    )
    max_future_s: float = Field(
        default=300.0, ge=0, description="payments dated further ahead of the clock are dead-lettered"
    )
    call_timeout_s: float = Field(default=10.0, gt=0, description="bound on one Redis or Feast push call")
    retry_budget_s: float = Field(default=60.0, description="retry a failing push this long, then redeliver")
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    metrics_port: int | None = Field(default=None, description="Prometheus /metrics port; none to disable")
    source: str = "/rtinfer/features"
