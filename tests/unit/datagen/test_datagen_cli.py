"""`rtinfer data generate`: flags, output folder, summary, and registration in the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rtinfer.datagen import PAYMENTS_SCHEMA, Drift
from rtinfer.datagen.cli import DRIFTS, register

pytestmark = pytest.mark.unit


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rtinfer")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_generate_writes_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "data"
    args = _parse(
        ["data", "generate", "--seed", "5", "--cards", "120", "--merchants", "50", "--days", "6",
         "--out", str(out), "--start", "2026-02-01", "--fraud-rate", "0.015"]
    )  # fmt: skip
    assert args.handler(args) == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "cards.parquet", "merchants.parquet", "payments.parquet", "summary.json",
    ]  # fmt: skip
    payments = pq.read_table(out / "payments.parquet")
    assert payments.schema.remove_metadata().equals(PAYMENTS_SCHEMA)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5
    assert summary["parameters"]["start"] == "2026-02-01T00:00:00+00:00"
    assert summary["parameters"]["fraud_rate"] == 0.015
    assert summary["counts"]["payments"] == payments.num_rows
    assert summary["counts"]["cards"] == 120
    assert set(summary["fraud_rate_by_pattern"]) == {
        "card_testing", "new_merchant_large", "velocity", "compromised_merchant",
    }  # fmt: skip
    fraud = sum(summary["fraud_count_by_pattern"].values())
    assert fraud == summary["counts"]["fraud"]
    assert "payments" in capsys.readouterr().out


def test_payments_target_scales_the_volume(tmp_path: Path):
    args = _parse(["data", "generate", "--payments", "5000", "--cards", "300", "--merchants", "60",
                   "--days", "10", "--out", str(tmp_path), "--quiet"])  # fmt: skip
    assert args.handler(args) == 0
    assert 4_700 <= pq.read_metadata(tmp_path / "payments.parquet").num_rows <= 5_300


def test_drift_flags(tmp_path: Path):
    args = _parse(["data", "generate", "--cards", "60", "--merchants", "30", "--days", "8", "--out",
                   str(tmp_path), "--drift", "new-pattern", "--drift-from-day", "2", "--quiet"])  # fmt: skip
    assert args.handler(args) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["parameters"]["drift"] == "new-pattern"
    assert summary["parameters"]["drift_from_day"] == 2


def test_bad_arguments_exit_with_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    args = _parse(["data", "generate", "--days", "0", "--out", str(tmp_path), "--quiet"])
    assert args.handler(args) == 2
    assert "days" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parse(["data", "generate", "--out", str(tmp_path), "--start", "yesterday"])


def test_drift_choices_match_the_enum_and_the_cli_lists_the_module():
    assert tuple(drift.value for drift in Drift) == DRIFTS
    from rtinfer.cli import COMMAND_MODULES

    assert "rtinfer.datagen.cli" in COMMAND_MODULES
