"""Settings of `rtinfer dlq` (env prefix RTINFER_DLQ_): which topics a replay may publish to."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.features.settings import FeatureWriterSettings
from services.scoring.settings import Topics

# Large enough for any record a broker with default limits (1 MiB) accepts, with room to spare.
DEFAULT_MAX_LETTER_BYTES = 8 * 1024 * 1024


class _ScoringInput(BaseSettings):
    """The scoring service's input topic, read from the same env as ScoringSettings."""

    model_config = SettingsConfigDict(env_prefix="RTINFER_SCORING_", env_nested_delimiter="__", frozen=True)

    topics: Topics = Field(default_factory=Topics)


class _FeaturesInput(BaseSettings):
    """The feature writer's input topic, read from the same env as FeatureWriterSettings."""

    model_config = SettingsConfigDict(env_prefix="RTINFER_FEATURES_", frozen=True)

    payments_topic: str = FeatureWriterSettings.model_fields["payments_topic"].default


def consumed_topics() -> frozenset[str]:
    """The topics the services consume, as their own settings name them."""
    return frozenset({_ScoringInput().topics.payments, _FeaturesInput().payments_topic})


class DlqSettings(BaseSettings):
    """Built once per command; `--allow-topic` and `--max-bytes` override."""

    model_config = SettingsConfigDict(env_prefix="RTINFER_DLQ_", frozen=True)

    replay_topics: Annotated[frozenset[str], NoDecode] = Field(
        default_factory=consumed_topics,
        description="comma-separated topics a replay may publish to; default: the services' inputs",
    )
    max_letter_bytes: int = Field(
        default=DEFAULT_MAX_LETTER_BYTES, ge=1024 * 1024, description="largest record read from the DLQ"
    )

    @field_validator("replay_topics", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(topic.strip() for topic in value.split(",") if topic.strip())
        return value
