"""Settings of the scoring service (env prefix RTINFER_SCORING_, nested with __)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import KServeClientSettings
from services.adapters.vectors.settings import VectorSettings
from services.core.scoring.policy import (
    DecisionPolicy,
    ExplanationPolicy,
    FreshnessPolicy,
    NeighboursFor,
    ScoringPolicy,
    StalePolicy,
)
from services.fraud.cases import FRAUD_CASE_SCHEMA


class Topics(BaseModel):
    model_config = ConfigDict(frozen=True)

    payments: str = "payments"
    predictions: str = "predictions"
    explanations: str = "explanations"
    dlq: str = "payments.dlq"
    shadow_predictions: str = "predictions.shadow"


class ChallengerSettings(BaseModel):
    """A model scored beside the champion on every micro-batch (shadow), or deciding a share of
    entities (canary). Its failures and slowness never reach the champion's predictions."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    name: str = Field(min_length=1, description="the model's name on the model server")
    url: str | None = Field(
        default=None, description="its model server (REST URL, or host:port for gRPC); default the champion's"
    )
    protocol: Literal["rest", "grpc"] | None = Field(default=None, description="default the champion's")
    review_at: float | None = Field(
        default=None, ge=0, le=1, description="default: model_dir's, else the champion's"
    )
    decline_at: float | None = Field(
        default=None, ge=0, le=1, description="default: model_dir's, else the champion's"
    )
    model_dir: Path | None = Field(default=None, description="its artifact (metadata.json): thresholds")
    timeout_s: float = Field(
        default=0.5, gt=0, description="per call; a late answer is a missing shadow score"
    )
    breaker_fail_max: int = Field(default=3, ge=1, description="consecutive failures that open its breaker")
    breaker_reset_s: float = Field(default=10.0, gt=0, description="open breaker: time before a trial call")


class Resilience(BaseModel):
    """Retries, breakers and what to do when a dependency stays down."""

    model_config = ConfigDict(frozen=True)

    retry_budget_s: float = Field(
        default=20.0, description="retry a failing batch this long (< max.poll.interval)"
    )
    retry_initial_s: float = 0.1
    retry_max_s: float = 2.0
    breaker_fail_max: int = Field(default=5, description="consecutive failed batches that open a breaker")
    breaker_reset_s: float = Field(default=10.0, description="how long an open breaker waits before a trial")
    on_vectors_down: Literal["degrade", "pause"] = "degrade"


class ScoringSettings(BaseSettings):
    """Everything the scoring service reads; built once in its entry point."""

    model_config = SettingsConfigDict(
        env_prefix="RTINFER_SCORING_", env_nested_delimiter="__", frozen=True, protected_namespaces=()
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    feast: FeastSettings = Field(default_factory=FeastSettings)
    model: KServeClientSettings = Field(default_factory=KServeClientSettings)
    vectors: VectorSettings = Field(
        default_factory=VectorSettings,
        validate_default=True,
        description="case schema: the fraud one unless RTINFER_VECTORS_CASE_PROPERTIES sets another",
    )
    topics: Topics = Field(default_factory=Topics)
    resilience: Resilience = Field(default_factory=Resilience)

    model_dir: Path = Field(
        default=Path("var/model"), description="model artifact (metadata.json: scaler, thresholds)"
    )
    group_id: str = "rtinfer-scoring"
    processing_guarantee: Literal["at-least-once", "exactly-once"] = Field(
        default="at-least-once",
        description="exactly-once: one Kafka transaction per micro-batch holds its predictions, dead "
        "letters and consumed offsets (Kafka pull mode; readers use isolation.level=read_committed)",
    )
    transactional_id: str | None = Field(
        default=None,
        description="exactly-once: the producer's transactional id, stable per instance so a restart "
        "fences its predecessor; default <group_id>-<hostname>",
    )
    max_records: int = Field(default=256, ge=1, description="records per micro-batch")
    batch_timeout_ms: int = Field(default=20, ge=1, description="max wait to fill a micro-batch")
    batches_in_flight: int = Field(
        default=4,
        ge=1,
        le=16,
        description="micro-batches scored at once: a poll takes up to max_records x this many records and "
        "scores them as concurrent micro-batches of max_records, CPU work of one overlapping the I/O of "
        "another; outputs are published in input order and offsets committed once all are out",
    )
    max_event_bytes: int = 65536
    entity_keys: dict[str, str] = Field(
        default={"card_id": "card_id", "merchant_id": "merchant_id"},
        description="payload field -> Feast join key",
    )
    segment_fields: tuple[str, ...] = ("country", "card_type", "merchant_category", "channel")
    request_features: str = Field(
        default="services.fraud.request:payment_request_features",
        description="module:function computing request-time features",
    )
    review_at: float | None = Field(default=None, description="default: the artifact's review threshold")
    decline_at: float | None = Field(default=None, description="default: the artifact's decline threshold")
    max_age_s: dict[str, float] = Field(
        default={
            "card_profile_*": 2 * 86400.0,
            "card_mean_amount_7d": 2 * 86400.0,
            "card_count_7d": 2 * 86400.0,
            "merchant_*": 2 * 86400.0,
            "card_*": 30 * 86400.0,
        },
        description="max feature age in seconds by name pattern (first match wins)",
    )
    on_stale: StalePolicy = StalePolicy.FLAG
    stale_defaults: dict[str, float] = Field(default_factory=dict)
    explain_always: bool = False
    explain_flagged: bool = True
    explain_score_band: tuple[float, float] | None = None
    explain_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    explain_queue: int = Field(default=10_000, description="bounded explanation queue")
    top_contributions: int = 5
    gc_freeze: bool = Field(
        default=True, description="gc.freeze() after start-up: full collections skip start-up objects"
    )
    features_timeout_s: float = 1.0
    vectors_enabled: bool = True
    neighbours_for: NeighboursFor = Field(
        default=NeighboursFor.FLAGGED,
        description="which predictions carry labelled neighbours: all | flagged (review, decline) | "
        "explained | none; the vector search runs for those rows only",
    )
    challengers: list[ChallengerSettings] = Field(
        default_factory=list,
        description="models scored beside the champion (JSON list); each emits shadow predictions",
    )
    canary_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="share of entities the canary challenger decides (0: shadow only)",
    )
    canary_model: str | None = Field(
        default=None, description="the challenger deciding the canary share; default the first"
    )
    canary_key: str = Field(
        default="card_id", description="payload field whose hash puts an entity on one side"
    )
    shadow_wait_s: float = Field(
        default=0.05,
        ge=0,
        description="how long a batch waits for the challengers once the champion answered",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8090, description="push ingress, /healthz, /readyz, /metrics")
    http_max_in_flight: int = Field(default=64, description="concurrent push requests before 429")
    http_max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="largest push request body; larger ones get 413 unread"
    )
    http_max_connections: int = Field(
        default=128, ge=2, description="open connections (bodies being received); more get 503"
    )
    http_read_timeout_s: float = Field(default=10.0, gt=0, description="time to receive a whole request body")
    http_max_batch_items: int = Field(
        default=256, ge=1, description="events in one batch request; more get 413 (split the batch)"
    )
    http_reply: bool = Field(default=False, description="reply to a single pushed event with its prediction")
    metrics_port: int | None = Field(default=None, description="separate Prometheus port (pull mode)")
    otlp_endpoint: str | None = Field(default=None, description="OTLP/HTTP traces and metrics endpoint")
    shutdown_timeout_s: float = Field(default=20.0, description="bound on the SIGTERM drain")
    stuck_after_s: float = Field(
        default=30.0, gt=0, description="readiness fails when no Kafka batch could be committed for this long"
    )
    source: str = "/rtinfer/scoring"

    @model_validator(mode="after")
    def _canary_names_a_challenger(self) -> ScoringSettings:
        names = [challenger.name for challenger in self.challengers]
        if len(set(names)) != len(names):
            raise ValueError(f"challenger names repeat: {names}")
        if self.canary_model is not None and self.canary_model not in names:
            raise ValueError(f"canary_model {self.canary_model!r} is not one of the challengers {names}")
        if self.canary_share > 0 and not names:
            raise ValueError("canary_share > 0 needs a challenger (RTINFER_SCORING_CHALLENGERS)")
        return self

    @property
    def canary(self) -> str | None:
        """The challenger deciding the canary share, when there is a share."""
        if self.canary_share <= 0 or not self.challengers:
            return None
        return self.canary_model or self.challengers[0].name

    @field_validator("vectors")
    @classmethod
    def _use_case_schema(cls, vectors: VectorSettings) -> VectorSettings:
        return vectors.with_default_schema(FRAUD_CASE_SCHEMA)

    def policy(self, review_at: float, decline_at: float) -> ScoringPolicy:
        return ScoringPolicy(
            entity_keys=tuple(self.entity_keys.items()),
            segment_fields=self.segment_fields,
            decision=DecisionPolicy(
                review_at=self.review_at or review_at, decline_at=self.decline_at or decline_at
            ),
            freshness=FreshnessPolicy(
                max_age_s=tuple(self.max_age_s.items()),
                on_stale=self.on_stale,
                defaults=tuple(self.stale_defaults.items()),
            ),
            explanation=ExplanationPolicy(
                always=self.explain_always,
                flagged=self.explain_flagged,
                score_band=self.explain_score_band,
                sample_rate=self.explain_sample_rate,
            ),
            neighbours_k=self.vectors.k,
            neighbours_for=NeighboursFor(self.neighbours_for),
            degrade_without_neighbours=self.resilience.on_vectors_down == "degrade",
            features_timeout_s=self.features_timeout_s,
            model_timeout_s=self.model.timeout_s,
            vectors_timeout_s=self.vectors.timeout_s,
            top_contributions=self.top_contributions,
            source=self.source,
            micro_batch=self.max_records if self.batches_in_flight > 1 else None,
        )
