"""Settings of the model server; env prefix RTINFER_MODEL_, command-line flags win over env."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "RTINFER_MODEL_"


class ModelServerSettings(BaseSettings):
    """What `python -m services.model` serves and where it listens."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, protected_namespaces=())

    model_dir: Path = Field(description="artifact directory holding model.txt and metadata.json")
    model_name: str = Field(default="fraud", min_length=1, description="name on the endpoint paths")
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


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One --flag per setting, its help naming the env variable and the default."""
    for name, field in ModelServerSettings.model_fields.items():
        env = f"{ENV_PREFIX}{name.upper()}"
        default = "required" if field.is_required() else f"default {field.default}"
        options: dict[str, Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": f"{field.description} (env {env}; {default})",
        }
        if field.annotation is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["metavar"] = "PORT" if name.endswith("_port") else name.removeprefix("model_").upper()
        parser.add_argument(f"--{name.replace('_', '-')}", **options)


def settings_from_args(argv: Sequence[str] | None = None, *, prog: str | None = None) -> ModelServerSettings:
    """Parse flags, then build settings: flags first, then RTINFER_MODEL_* env, then defaults."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a fraud model artifact over KServe's V1/V2 REST and V2 gRPC protocols.",
    )
    add_settings_arguments(parser)
    flags = vars(parser.parse_args(argv))
    return ModelServerSettings(**flags)
