"""Committed JSON Schemas (<type>.json); the generator lives in events.schemagen."""

from events.schemagen import REGENERATE_COMMAND, SCHEMA_DIR, generate, render, schema_of, schema_path

__all__ = ["REGENERATE_COMMAND", "SCHEMA_DIR", "generate", "render", "schema_of", "schema_path"]
