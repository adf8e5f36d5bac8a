"""The environment variables the services really read, from their settings classes.

Deployment files (docker-compose.yml, deploy/knative) set RTINFER_* variables; a misspelt
one is silently ignored by pydantic-settings, so the tests check every name against the
settings models (nested models with "__") and build the settings from the values.
"""

from __future__ import annotations

import contextlib
import os
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings

from services.adapters.vectors.settings import VectorSettings
from services.features.settings import FeatureWriterSettings
from services.model.settings import ModelServerSettings
from services.monitor.settings import MonitorSettings
from services.scoring.settings import ScoringSettings

SETTINGS_BY_PREFIX: dict[str, type[BaseSettings]] = {
    "RTINFER_SCORING_": ScoringSettings,
    "RTINFER_FEATURES_": FeatureWriterSettings,
    "RTINFER_MODEL_": ModelServerSettings,
    "RTINFER_MONITOR_": MonitorSettings,
    "RTINFER_VECTORS_": VectorSettings,
}
# Read as fallbacks by several settings (the native stack's `rtinfer stack env` prints them).
SHARED_VARIABLES = {
    "RTINFER_KAFKA_BOOTSTRAP",
    "RTINFER_REDIS_URL",
    "RTINFER_WEAVIATE_URL",
    "RTINFER_WEAVIATE_GRPC_PORT",
    "RTINFER_WEAVIATE_API_KEY",
}


def setting_names(settings: type[BaseModel], prefix: str) -> set[str]:
    """Every env name of `settings` under `prefix`, nested models joined with "__"."""
    names = set()
    for name, field in settings.model_fields.items():
        key = f"{prefix}{name.upper()}"
        names.add(key)
        for nested in _models_in(field.annotation):
            names |= setting_names(nested, f"{key}__")
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]
    return []


def settings_for(variable: str) -> tuple[str, type[BaseSettings]] | None:
    """The service prefix and settings class a variable belongs to (longest prefix first)."""
    for prefix in sorted(SETTINGS_BY_PREFIX, key=len, reverse=True):
        if variable.startswith(prefix):
            return prefix, SETTINGS_BY_PREFIX[prefix]
    return None


def unknown_variables(variables: Mapping[str, object], allowed: frozenset[str] = frozenset()) -> list[str]:
    """RTINFER_* names that no settings class reads (and that are not in `allowed`)."""
    unknown = []
    for variable in variables:
        if not variable.startswith("RTINFER_") or variable in SHARED_VARIABLES or variable in allowed:
            continue
        owner = settings_for(variable)
        if owner is None or variable not in setting_names(owner[1], owner[0]):
            unknown.append(variable)
    return sorted(unknown)


@contextlib.contextmanager
def only_env(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ with no RTINFER_* variable but `variables`, restored afterwards."""
    saved = dict(os.environ)
    try:
        for name in [name for name in os.environ if name.startswith("RTINFER_")]:
            del os.environ[name]
        os.environ.update(variables)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build(settings: type[BaseSettings], variables: Mapping[str, str]) -> Any:
    """`settings` as the service would build it from exactly these variables."""
    with only_env(variables):
        return settings()
