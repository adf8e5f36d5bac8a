"""The scoring service as a real process (`python -m services.scoring`), configured by env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from services.scoring.settings import ScoringSettings

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: ScoringSettings) -> dict[str, str]:
    """The settings as RTINFER_SCORING_* variables (nested with __), as a deployment sets them."""
    flat: dict[str, str] = {}

    def walk(prefix: str, model: BaseModel) -> None:
        for name in type(model).model_fields:
            value: Any = getattr(model, name)
            key = f"{prefix}{name.upper()}"
            if isinstance(value, BaseModel):
                walk(f"{key}__", value)
            elif value is None:
                continue
            elif isinstance(value, SecretStr):
                flat[key] = value.get_secret_value()
            elif isinstance(value, dict | list | tuple):
                flat[key] = json.dumps(value)
            else:
                flat[key] = str(value)

    walk("RTINFER_SCORING_", settings)
    return flat


def start_scoring(
    settings: ScoringSettings, log: Path, *, ingress: str = "kafka", log_level: str = "WARNING"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings)}
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "services.scoring", "--ingress", ingress, "--log-level", log_level],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
