"""Ports: every small interface the pure logic depends on, in one module. Adapters implement them.

Model, vector index and online features (scoring), event publishing and sinks (all services),
rolling state and the online-store pusher (feature writer), and the two functions a use case
plugs in (request-time features, embedding).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from events import Event

FloatMatrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ModelInfo:
    """What the pipeline needs to know about the served model."""

    name: str
    version: str
    feature_names: tuple[str, ...]
    threshold: float  # score at or above which the model's label is 1


@dataclass(frozen=True)
class Explanations:
    """Exact additive attributions (TreeSHAP) for a batch.

    contributions[i, j] is feature j's contribution to row i's raw score (log-odds);
    contributions[i].sum() + base_values[i] equals row i's raw score.
    """

    contributions: FloatMatrix
    base_values: npt.NDArray[np.float64]
    feature_names: tuple[str, ...]


class ModelPort(Protocol):
    """A model served over the open inference protocol (or in process)."""

    async def info(self) -> ModelInfo: ...

    async def predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        """Scores (probability of the positive class) for each row; one request per batch."""
        ...

    async def explain(self, features: FloatMatrix) -> Explanations: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Neighbour:
    """A similar past case found by vector search.

    properties: the stored case's properties (exactly those of the index's CaseSchema) and its
    "timestamp" (tz-aware UTC).
    """

    id: str
    distance: float
    label: int | None
    properties: dict[str, object] = field(default_factory=dict)


# What a case property holds; a case schema gives each property one kind.
PropertyValue = str | float | int | bool | None
PropertyKind = Literal["text", "number", "int", "bool"]
PROPERTY_KINDS: tuple[PropertyKind, ...] = ("text", "number", "int", "bool")
# Names the backends store for every case; a schema cannot reuse them.
RESERVED_CASE_FIELDS = frozenset({"id", "case_id", "label", "timestamp", "vector"})
_PROPERTY_NAME = re.compile(r"[a-z][_0-9A-Za-z]{0,63}")


@dataclass(frozen=True)
class Case:
    """A labelled past case stored in the vector index.

    id, label and timestamp (tz-aware) are stored for every use case; `properties` holds what
    the use case's CaseSchema declares (fraud: amount and merchant_id).
    """

    id: str
    label: int
    timestamp: datetime
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseSchema:
    """The properties a use case stores with each case: name -> kind, in storage order.

    Kinds: "text" (exact-match text), "number" (float), "int", "bool". Names start with a
    lowercase letter (Weaviate lowercases a first capital), then letters, digits and `_`, and
    cannot be one of the fields every case has (id, case_id, label, timestamp, vector).
    """

    properties: Mapping[str, PropertyKind] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, kind in self.properties.items():
            if not _PROPERTY_NAME.fullmatch(name) or name in RESERVED_CASE_FIELDS:
                raise ValueError(
                    f"case property name {name!r}: use [a-z][_0-9A-Za-z]*, not one of "
                    f"{', '.join(sorted(RESERVED_CASE_FIELDS))}"
                )
            if kind not in PROPERTY_KINDS:
                raise ValueError(
                    f"case property {name!r}: kind {kind!r} is not one of {', '.join(PROPERTY_KINDS)}"
                )
        object.__setattr__(self, "properties", dict(self.properties))  # our own copy, order kept

    def __hash__(self) -> int:
        return hash(tuple(self.properties.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.properties)


class VectorIndexPort(Protocol):
    """k-nearest-neighbour search over embeddings of past cases."""

    async def ensure_collection(self, dimensions: int) -> None: ...

    async def upsert(self, cases: Sequence[Case], vectors: FloatMatrix) -> int:
        """Insert or replace cases with their vectors; returns how many were written."""
        ...

    async def search(self, vectors: FloatMatrix, k: int) -> list[list[Neighbour]]:
        """The k nearest stored cases for each query row, nearest first."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class StoredFeature:
    """A feature value from the online store and the event time it was written for."""

    value: float | None
    event_timestamp: datetime | None


class FeaturesPort(Protocol):
    """Online feature reads for a batch: one call, one row per entity row, in order."""

    async def read(self, entity_rows: list[dict[str, str]]) -> list[dict[str, StoredFeature]]: ...


# (payload, stored features) -> request-time features; the use case's function, chosen by settings.
RequestFeatureFn = Callable[[Any, Mapping[str, StoredFeature]], dict[str, float]]
# Rows of raw model features -> embeddings for vector search (services.core.embedding).
Embedder = Callable[[FloatMatrix], FloatMatrix]

# Events to one topic, returning once the broker acknowledged every one.
Publish = Callable[[str, Sequence[Event[Any]]], Awaitable[None]]
# Events to a topic fixed by the caller (explanations, dead letters).
EventSink = Callable[[Sequence[Event[Any]]], Awaitable[None]]


class EventPublisher(Protocol):
    """A started producer that publishes events and waits for their acknowledgements."""

    async def start(self) -> None: ...

    async def publish(self, topic: str, events: Sequence[Event[Any]]) -> None: ...

    async def stop(self) -> None: ...


FactT_contra = TypeVar("FactT_contra", contravariant=True)


class RollingState(Protocol[FactT_contra]):
    """Per-entity rolling aggregates, idempotent by event id: facts in, each entity's latest row out."""

    async def add(self, facts: Sequence[FactT_contra]) -> dict[str, dict[str, float]]: ...


class Pusher(Protocol):
    """Writes feature rows to the online store."""

    async def push(self, rows: pd.DataFrame) -> None: ...
