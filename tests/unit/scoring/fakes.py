"""Fakes of the pipeline's ports, for unit tests of the core (named as fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from services.core.errors import DependencyUnavailable
from services.core.ports import Case, Explanations, ModelInfo, Neighbour, StoredFeature

FEATURES = ("amount", "hour_of_day", "card_count_1h", "card_mean_amount_7d")
WEIGHTS = np.array([0.02, 0.0, 0.5, -0.01])
BIAS = -3.0


class FakeFeatures:
    """Stored features per card, all written `age` before the event."""

    def __init__(self, values: dict[str, dict[str, float]], written_at: datetime | None = None) -> None:
        self.values = values
        self.written_at = written_at
        self.calls: list[list[dict[str, str]]] = []

    async def read(self, entity_rows: list[dict[str, str]]) -> list[dict[str, StoredFeature]]:
        self.calls.append(entity_rows)
        return [
            {
                name: StoredFeature(value, self.written_at)
                for name, value in self.values.get(row["card_id"], {}).items()
            }
            for row in entity_rows
        ]


class FakeLinearModel:
    """A logistic model over a weighted sum: exact attributions are weight * value."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.batches: list[int] = []

    async def info(self) -> ModelInfo:
        return ModelInfo("fake", "v1", FEATURES, 0.5)

    def _raw(self, features: np.ndarray) -> np.ndarray:
        return np.nan_to_num(features.astype(np.float64)) @ WEIGHTS + BIAS

    async def predict(self, features: np.ndarray) -> np.ndarray:
        if self.down:
            raise DependencyUnavailable("kserve", "connection refused")
        self.batches.append(len(features))
        return 1.0 / (1.0 + np.exp(-self._raw(features)))

    async def explain(self, features: np.ndarray) -> Explanations:
        contributions = np.nan_to_num(features.astype(np.float64)) * WEIGHTS
        return Explanations(contributions.astype(np.float32), np.full(len(features), BIAS), FEATURES)

    async def close(self) -> None:
        return None


class FakeVectors:
    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.searched: list[int] = []  # rows per search call

    async def ensure_collection(self, dimensions: int) -> None:
        return None

    async def upsert(self, cases: Sequence[Case], vectors: np.ndarray) -> int:
        return len(cases)

    async def search(self, vectors: np.ndarray, k: int) -> list[list[Neighbour]]:
        if self.down:
            raise DependencyUnavailable("weaviate", "connection refused")
        self.searched.append(len(vectors))
        return [[Neighbour(f"case-{i}", float(i), i % 2) for i in range(k)] for _ in range(len(vectors))]

    async def close(self) -> None:
        return None


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
