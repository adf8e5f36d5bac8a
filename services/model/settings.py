"""Settings of the model server; env prefix RTINFER_MODEL_, command-line flags win over env."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "RTINFER_MODEL_"
# A name on the endpoint paths (/v2/models/{name}/infer) and in gRPC requests.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ModelServerSettings(BaseSettings):
    """What `python -m services.model` serves and where it listens."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, protected_namespaces=())

    model_dir: Path = Field(description="artifact directory holding model.txt and metadata.json")
    model_name: str = Field(default="fraud", min_length=1, description="name on the endpoint paths")
    extra_models: dict[str, Path] = Field(
        default_factory=dict,
        description="more models served beside it (challengers), each NAME=DIR on its own paths; "
        'env: a JSON object {"NAME": "DIR", ...}; the flag is repeatable',
    )
    http_port: int = Field(default=8085, ge=1, le=65535, description="REST (V1 + V2) port")
    grpc_port: int = Field(default=8086, ge=1, le=65535, description="gRPC (V2) port")
    enable_grpc: bool = Field(default=True, description="serve the gRPC V2 endpoint")
    workers: int = Field(default=1, ge=1, description="REST worker processes")
    grpc_max_threads: int = Field(default=4, ge=1, description="gRPC server thread pool size")
    predict_threads: int = Field(default=1, ge=1, description="LightGBM threads per prediction")
    repository_writes: bool = Field(
        default=False,
        description="allow KServe's /v2/repository/models/{name}/load and /unload (unload is an outage; "
        "they have no authentication)",
    )
    request_logging: bool = Field(
        default=False, description="log a line per request (access log, latency, gRPC method)"
    )

    @field_validator("extra_models", mode="before")
    @classmethod
    def _pairs_from_flags(cls, value: Any) -> Any:
        # The repeatable flag gives ["NAME=DIR", ...]; the environment gives a JSON object.
        if not isinstance(value, list | tuple):
            return value
        models: dict[str, str] = {}
        for pair in value:
            name, separator, directory = str(pair).partition("=")
            if not separator or not name or not directory:
                raise ValueError(f"expected NAME=DIR, got {pair!r}")
            if name in models:
                raise ValueError(f"model {name!r} is given twice")
            models[name] = directory
        return models

    @field_validator("extra_models")
    @classmethod
    def _distinct_names(cls, models: dict[str, Path], info: ValidationInfo) -> dict[str, Path]:
        for name in models:
            if not re.fullmatch(MODEL_NAME_PATTERN, name):
                raise ValueError(f"model name {name!r} cannot be an endpoint path segment")
        main = info.data.get("model_name")
        if main in models:
            raise ValueError(f"extra model {main!r} has the main model's name (--model-name)")
        return models

    def served_models(self) -> dict[str, Path]:
        """Every model this server serves, name -> artifact directory, the main model first."""
        return {self.model_name: self.model_dir, **self.extra_models}


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One --flag per setting, its help naming the env variable and the default."""
    for name, field in ModelServerSettings.model_fields.items():
        env = f"{ENV_PREFIX}{name.upper()}"
        default = (
            "required" if field.is_required() else f"default {field.get_default(call_default_factory=True)}"
        )
        options: dict[str, Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": f"{field.description} (env {env}; {default})",
        }
        flag = f"--{name.replace('_', '-')}"
        if field.annotation is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif name == "extra_models":
            flag, options["action"], options["metavar"] = "--extra-model", "append", "NAME=DIR"
        else:
            options["metavar"] = "PORT" if name.endswith("_port") else name.removeprefix("model_").upper()
        parser.add_argument(flag, **options)


def settings_from_args(argv: Sequence[str] | None = None, *, prog: str | None = None) -> ModelServerSettings:
    """Parse flags, then build settings: flags first, then RTINFER_MODEL_* env, then defaults."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve fraud model artifacts over KServe's V1/V2 REST and V2 gRPC protocols.",
    )
    add_settings_arguments(parser)
    flags = vars(parser.parse_args(argv))
    return ModelServerSettings(**flags)
