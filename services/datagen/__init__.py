"""Deterministic synthetic card payments with planted fraud patterns (see docs/data.md)."""

from services.datagen.config import Drift, FraudPattern, GeneratorConfig
from services.datagen.generate import STAGES, GeneratedData, GeneratedTables, generate
from services.datagen.summary import summarize
from services.datagen.tables import CARDS_SCHEMA, MERCHANTS_SCHEMA, PAYMENTS_SCHEMA
from services.datagen.writer import write_dataset

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
