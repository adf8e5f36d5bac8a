"""Deterministic synthetic card payments with planted fraud patterns (see docs/data.md)."""

from rtinfer.datagen.config import Drift, FraudPattern, GeneratorConfig
from rtinfer.datagen.generate import STAGES, GeneratedData, GeneratedTables, generate
from rtinfer.datagen.summary import summarize
from rtinfer.datagen.tables import CARDS_SCHEMA, MERCHANTS_SCHEMA, PAYMENTS_SCHEMA
from rtinfer.datagen.writer import write_dataset

__all__ = [
    "CARDS_SCHEMA",
    "MERCHANTS_SCHEMA",
    "PAYMENTS_SCHEMA",
    "STAGES",
    "Drift",
    "FraudPattern",
    "GeneratedData",
    "GeneratedTables",
    "GeneratorConfig",
    "generate",
    "summarize",
    "write_dataset",
]
