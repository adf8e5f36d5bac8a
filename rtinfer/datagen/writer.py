"""Write a generated data set to a folder: three parquet files and summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from rtinfer.datagen.generate import GeneratedData
from rtinfer.datagen.summary import summarize

PAYMENTS_FILE = "payments.parquet"
CARDS_FILE = "cards.parquet"
MERCHANTS_FILE = "merchants.parquet"
SUMMARY_FILE = "summary.json"


def write_dataset(data: GeneratedData, out: Path) -> dict[str, Path]:
    """Write every file (same data -> same bytes) and return their paths by file name."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, table in (
        (PAYMENTS_FILE, data.tables.payments),
        (CARDS_FILE, data.tables.cards),
        (MERCHANTS_FILE, data.tables.merchants),
    ):
        path = out / name
        pq.write_table(table, path, compression="zstd")
        written[name] = path
    summary_path = out / SUMMARY_FILE
    summary_path.write_text(json.dumps(summarize(data), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written[SUMMARY_FILE] = summary_path
    return written
