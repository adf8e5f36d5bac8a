"""`rtinfer features apply|materialize|online` on SQLite and then on the real Redis, one repo dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtinfer.cli import main
from tests.integration.datasets import generated_payments
from tests.servers import RedisEndpoint


def _online(capsys: pytest.CaptureFixture[str], common: list[str], card: str, merchant: str) -> dict:
    capsys.readouterr()
    assert main(["features", "online", *common, "--card", card, "--merchant", merchant]) == 0
    return json.loads(capsys.readouterr().out)


def test_redis_is_materialized_after_sqlite_in_the_same_repo_dir(
    redis_server: RedisEndpoint, unique_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payments = generated_payments(2000)
    payments_file = tmp_path / "payments.parquet"
    payments.to_parquet(payments_file)
    last = payments.sort_values("timestamp").iloc[-1]
    end = (
        payments["timestamp"].max() + (payments["timestamp"].max() - payments["timestamp"].min())
    ).isoformat()
    repo = ["--repo-dir", str(tmp_path / "feast"), "--data-dir", str(tmp_path / "features")]
    project = ["--project", unique_name.replace("-", "_")]
    sqlite = [*repo, *project, "--online-store", "sqlite"]
    redis = [*repo, *project, "--online-store", "redis", "--redis-url", redis_server.url]

    for store in (sqlite, redis):
        assert main(["features", "apply", *store, "--payments", str(payments_file)]) == 0
        assert main(["features", "materialize", *store, "--end", end]) == 0

    from_sqlite = _online(capsys, sqlite, last.card_id, last.merchant_id)
    from_redis = _online(capsys, redis, last.card_id, last.merchant_id)
    assert from_sqlite["card_mean_amount_7d"]["value"] is not None
    # Each store has its own registry, so the second materialize loaded the history too.
    assert from_redis == from_sqlite
    # A second, incremental materialize into Redis changes nothing.
    assert main(["features", "materialize", *redis, "--end", end]) == 0
    assert _online(capsys, redis, last.card_id, last.merchant_id) == from_redis
