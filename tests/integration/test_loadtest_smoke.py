"""Ten seconds of the locust load test against a real scoring service run in this process.

The locust run (`python -m loadtest.run`) is a subprocess, so gevent's monkey-patching stays
out of the test process; the service keeps serving on this event loop while it runs.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from loadtest.summary import read_stats
from services.scoring.app import ScoringApp
from tests.integration.kafka_helpers import create_topics
from tests.integration.scoring_env import ScoringEnv

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[2]


async def test_ten_seconds_of_load_reach_predictions(env: ScoringEnv, tmp_path: Path, free_port: int) -> None:
    settings = env.settings("smoke", http_port=free_port)
    topics = settings.topics
    await create_topics(
        env.kafka.bootstrap, topics.payments, topics.predictions, topics.explanations, topics.dlq
    )
    payments_file = tmp_path / "payments.parquet"
    env.payments.to_parquet(payments_file)
    reports = tmp_path / "reports"
    options = {
        "--users": "both",
        "--rate": "200",
        "--http-rate": "20",
        "--run-time": "10s",
        "--bootstrap": env.kafka.bootstrap,
        "--host": f"http://127.0.0.1:{free_port}",
        "--payments-topic": topics.payments,
        "--predictions-topic": topics.predictions,
        "--payments-file": str(payments_file),
        "--prediction-timeout": "30",  # a busy machine may lag; a lost prediction still fails
        "--out": str(reports),
    }
    command = [sys.executable, "-m", "loadtest.run", *(part for pair in options.items() for part in pair)]
    service = ScoringApp(settings, ingress="both")
    await service.start()
    try:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=PROJECT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    finally:
        await service.stop()
    text = output.decode(errors="replace")
    print(text[-3000:])  # the summary lines, shown with -s or on failure

    stats = read_stats(reports / "load_stats.csv")
    to_prediction = stats["event->prediction"]
    assert to_prediction.requests > 500, text[-3000:]
    assert to_prediction.failure_ratio <= 0.01, text[-3000:]
    assert stats["produce"].failures == 0
    posted = stats["POST / (binary)"]
    assert posted.requests > 0 and posted.failure_ratio <= 0.01, text[-3000:]
    assert (reports / "report.html").stat().st_size > 0
    assert "event->prediction:" in text and process.returncode == 0, text[-3000:]
