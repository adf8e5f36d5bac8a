"""`rtinfer vectors index|search` wired to an in-memory index: parquet in, neighbours out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from rtinfer.vectors import cli
from services.adapters.vectors.memory import InMemoryIndex
from services.adapters.vectors.settings import VectorSettings
from services.fraud.cases import FRAUD_CASE_SCHEMA

pytestmark = pytest.mark.unit


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rtinfer")
    cli.register(root.add_subparsers(dest="command", required=True))
    return root


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "case_id": ["p-1", "p-2", "p-3"],
            "label": [0, 1, 0],
            "amount": [10.0, 900.0, 12.0],
            "merchant_id": ["m-1", "m-2", "m-1"],
            "timestamp": pd.to_datetime(["2024-01-01T10:00Z", "2024-01-01T11:00Z", "2024-01-01T12:00Z"]),
            "amount_z": [0.1, 3.0, 0.2],
            "velocity": [1.0, 9.0, 1.5],
        }
    )
    path = tmp_path / "cases.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture
def memory_index(monkeypatch: pytest.MonkeyPatch) -> InMemoryIndex:
    index = InMemoryIndex(FRAUD_CASE_SCHEMA)

    def make_index(settings: VectorSettings, backend: object = None) -> InMemoryIndex:
        assert settings.case_schema() == FRAUD_CASE_SCHEMA  # the CLI supplies the use case's schema
        return index

    monkeypatch.delenv("RTINFER_VECTORS_CASE_PROPERTIES", raising=False)
    monkeypatch.setattr(cli, "make_index", make_index)
    return index


def test_index_with_model_scaler(
    parser: argparse.ArgumentParser, cases_file: Path, tmp_path: Path, memory_index: InMemoryIndex
) -> None:
    metadata = {
        "version": "v1",
        "created_at": "2026-01-01T00:00:00Z",
        "feature_names": ["velocity", "amount_z"],
        "training_window": {"start": "2025-12-01T00:00:00Z", "end": "2025-12-25T00:00:00Z"},
        "holdout_window": {"start": "2025-12-25T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        "metrics": {"roc_auc": 0.9, "pr_auc": 0.5, "recall_at_fpr": {"fpr": 0.01, "recall": 0.4}},
        "thresholds": {"label": 0.5, "review": 0.5, "decline": 0.9},
        "scaler": {"mean": [1.0, 0.0], "scale": [2.0, 1.0]},
        "seed": 1,
    }
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    args = parser.parse_args(
        ["vectors", "index", "--cases", str(cases_file), "--model-dir", str(tmp_path), "--no-progress"]
    )

    assert args.handler(args) == 0

    case, vector = memory_index.cases["p-2"]
    assert vector.tolist() == [4.0, 3.0]
    assert case.label == 1
    assert case.properties == {"amount": 900.0, "merchant_id": "m-2"}
    assert memory_index.closed


def test_index_both_backends(
    parser: argparse.ArgumentParser, cases_file: Path, memory_index: InMemoryIndex
) -> None:
    args = parser.parse_args(
        [
            *("vectors", "index", "--cases", str(cases_file), "--features", "amount_z,velocity"),
            *("--backend", "both", "--collection", "Demo", "--no-progress"),
        ]
    )

    assert args.handler(args) == 0
    assert memory_index.upsert_calls == 2
    assert memory_index.dimensions == 2


def test_search_by_case_id(
    parser: argparse.ArgumentParser,
    cases_file: Path,
    memory_index: InMemoryIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    embedding = ["--cases", str(cases_file), "--features", "amount_z,velocity"]
    index_args = parser.parse_args(["vectors", "index", *embedding, "--no-progress"])
    assert index_args.handler(index_args) == 0

    args = parser.parse_args(["vectors", "search", *embedding, "--case-id", "p-1", "-k", "2"])

    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert printed.index("p-1") < printed.index("p-3")
    assert "p-2" not in printed
    assert "merchant_id" in printed and "m-1" in printed and "12.0" in printed  # the stored properties


def test_search_needs_a_query(parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]) -> None:
    args = parser.parse_args(["vectors", "search", "--case-id", "p-1"])

    assert args.handler(args) == 2
    assert "--cases" in capsys.readouterr().err
