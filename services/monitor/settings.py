"""Settings of the monitor service (env prefix RTINFER_MONITOR_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.adapters.kafka.settings import KafkaSettings
from services.core.monitoring.config import AlertThresholds, ComparisonConfig, MonitorConfig, PromotionRule
from services.core.monitoring.psi import DEFAULT_EPSILON


class MonitorSettings(BaseSettings):
    """Everything the monitor reads; built once in its entry point."""

    model_config = SettingsConfigDict(
        env_prefix="RTINFER_MONITOR_", env_nested_delimiter="__", frozen=True, populate_by_name=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    model_dir: Path = Field(default=Path("var/model"), description="model artifact holding metadata.json")
    predictions_topic: str = "predictions"
    explanations_topic: str = "explanations"
    labels_topic: str = "labels"
    reports_topic: str = Field(default="monitoring", description="drift reports go here")
    alerts_topic: str = Field(default="monitoring.alerts", description="one event per alert")
    group_id: str = "rtinfer-monitor"
    max_records: int = Field(default=1000, ge=1, description="records per micro-batch")
    batch_timeout_ms: int = Field(default=200, ge=1, description="max wait to fill a micro-batch")
    max_event_bytes: int = 65536
    state_path: Path = Field(
        default=Path("var/monitor/state.json"), description="state snapshot, rewritten before each commit"
    )
    reports_file: Path | None = Field(default=None, description="also append each report (JSON lines) here")
    tick_interval_s: float = Field(
        default=5.0, gt=0, description="how often to retry publishing and check idleness"
    )
    window_sizes_s: tuple[int, ...] = Field(default=(300, 3600), description="tumbling window sizes")
    allowed_lateness_s: float = Field(
        default=60.0, ge=0, description="event time past a window's end before it closes"
    )
    idle_close_s: float | None = Field(
        default=None, gt=0, description="with no prediction for this long (wall clock), event time moves on"
    )
    performance_delay_s: float = Field(
        default=0.0, ge=0, description="performance of a report covers the window this much earlier"
    )
    segment_attributes: tuple[str, ...] = Field(
        default=("country", "card_type"), description="bias per these"
    )
    segment_min_count: int = Field(default=100, ge=1, description="predictions a segment value needs")
    segment_min_labeled: int = Field(default=30, ge=1, description="labeled a segment value needs (FPR/TPR)")
    attribution_reasons: tuple[str, ...] = Field(
        default=(), description="explanation reasons used; empty = all"
    )
    psi_epsilon: float = Field(
        default=DEFAULT_EPSILON, gt=0, lt=0.01, description="floor of a bin share in PSI"
    )
    label_store_max: int = Field(default=200_000, ge=1, description="predictions kept for the label join")
    pending_labels_max: int = Field(default=100_000, ge=1, description="labels kept until their prediction")
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    champion: str | None = Field(
        default=None, description="model name of the champion to compare; default model_dir's name"
    )
    challengers: tuple[str, ...] = Field(
        default=(), description="model names compared with the champion (JSON list); empty = comparison off"
    )
    shadow_predictions_topic: str = Field(
        default="predictions.shadow", description="shadow predictions in (read only with challengers set)"
    )
    comparison_window_sizes_s: tuple[int, ...] | None = Field(
        default=None, description="window sizes of the comparison; default WINDOW_SIZES_S"
    )
    comparison_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="a window is compared this long after it closes; default PERFORMANCE_DELAY_S",
    )
    bootstrap_resamples: int = Field(
        default=1000, ge=0, description="paired bootstrap resamples; 0 = no intervals"
    )
    bootstrap_confidence: float = Field(default=0.95, gt=0, lt=1, description="of the intervals")
    bootstrap_seed: int = Field(default=0, ge=0, description="each window derives its own seed from it")
    bootstrap_max_events: int = Field(
        default=20_000, ge=100, description="above this many labelled inputs, resample a sample of them"
    )
    comparison_store_max: int = Field(
        default=200_000, ge=1, description="scored inputs kept for the comparison"
    )
    promotion: PromotionRule = Field(default_factory=PromotionRule)
    metrics_port: int | None = Field(default=None, description="Prometheus /metrics port; none to disable")
    source: str = "/rtinfer/monitor"

    def core_config(self) -> MonitorConfig:
        """The monitor core's part of the settings."""
        return MonitorConfig(
            window_sizes_s=self.window_sizes_s,
            allowed_lateness_s=self.allowed_lateness_s,
            idle_close_s=self.idle_close_s,
            performance_delay_s=self.performance_delay_s,
            segment_attributes=self.segment_attributes,
            segment_min_count=self.segment_min_count,
            segment_min_labeled=self.segment_min_labeled,
            attribution_reasons=self.attribution_reasons,
            psi_epsilon=self.psi_epsilon,
            label_store_max=self.label_store_max,
            pending_labels_max=self.pending_labels_max,
            alerts=self.alerts,
        )

    def comparison_config(self, champion: str) -> ComparisonConfig | None:
        """The comparison core's part of the settings, or None with no challenger (off).

        Args:
            champion: the watched model's name, used unless `champion` is set.
        """
        if not self.challengers:
            return None
        return ComparisonConfig(
            champion=self.champion or champion,
            challengers=self.challengers,
            window_sizes_s=self.comparison_window_sizes_s or self.window_sizes_s,
            allowed_lateness_s=self.allowed_lateness_s,
            evaluation_delay_s=(
                self.performance_delay_s if self.comparison_delay_s is None else self.comparison_delay_s
            ),
            idle_close_s=self.idle_close_s,
            segment_attributes=self.segment_attributes,
            resamples=self.bootstrap_resamples,
            confidence=self.bootstrap_confidence,
            seed=self.bootstrap_seed,
            bootstrap_max_events=self.bootstrap_max_events,
            psi_epsilon=self.psi_epsilon,
            store_max=self.comparison_store_max,
            pending_labels_max=self.pending_labels_max,
            rule=self.promotion,
        )
