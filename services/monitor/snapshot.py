"""The monitor's state file: written whole and atomically (temp file, fsync, rename)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson


class SnapshotFile:
    """One JSON file holding the last committed state (monitor state + consumed offsets)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none yet."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        loaded = orjson.loads(raw)
        if not isinstance(loaded, dict):
            raise ValueError(f"{self.path} does not hold a state object")
        return loaded

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state; a crash leaves either the old or the new file, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as file:
            file.write(orjson.dumps(state))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself must survive a crash
        finally:
            os.close(directory)
