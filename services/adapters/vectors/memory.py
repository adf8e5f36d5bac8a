"""An in-memory VectorIndexPort with exact search: for unit tests and demos without a server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from services.adapters.vectors.common import as_utc, check_upsert, property_rows
from services.adapters.vectors.knn import exact_knn
from services.core.ports import Case, CaseSchema, FloatMatrix, Neighbour


class InMemoryIndex:
    """Cases keyed by id (upsert replaces), searched exactly by squared L2.

    Stores and returns exactly the `schema`'s properties, checked as the real backends check them.
    """

    def __init__(self, schema: CaseSchema) -> None:
        self.schema = schema
        self.dimensions: int | None = None
        self.cases: dict[str, tuple[Case, FloatMatrix]] = {}
        self.upsert_calls = 0
        self.closed = False

    async def ensure_collection(self, dimensions: int) -> None:
        if self.dimensions not in (None, dimensions):
            raise ValueError(f"index holds {self.dimensions}-d vectors, not {dimensions}-d")
        self.dimensions = dimensions

    async def upsert(self, cases: Sequence[Case], vectors: FloatMatrix) -> int:
        matrix = check_upsert(cases, vectors)
        rows = property_rows(self.schema, cases)
        self.upsert_calls += 1
        for case, properties, vector in zip(cases, rows, matrix, strict=True):
            self.cases[case.id] = (replace(case, properties=properties), vector)
        return len(cases)

    async def search(self, vectors: FloatMatrix, k: int) -> list[list[Neighbour]]:
        if not self.cases:
            return [[] for _ in range(len(vectors))]
        stored = list(self.cases.values())
        matrix = np.stack([vector for _, vector in stored])
        rows, distances = exact_knn(matrix, vectors, k)
        return [
            [
                _neighbour(stored[int(row)][0], float(distance))
                for row, distance in zip(found, dist, strict=True)
            ]
            for found, dist in zip(rows, distances, strict=True)
        ]

    async def close(self) -> None:
        self.closed = True


def _neighbour(case: Case, distance: float) -> Neighbour:
    return Neighbour(
        id=case.id,
        distance=distance,
        label=case.label,
        properties={**case.properties, "timestamp": as_utc(case.timestamp)},
    )
