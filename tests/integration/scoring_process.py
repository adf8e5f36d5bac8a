"""The scoring service as a real process (`python -m services.scoring`), configured by env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.adapters.settings_help import settings_env
from services.scoring.settings import ScoringSettings

ROOT = Path(__file__).resolve().parents[2]


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
