"""The one audit of every fault scenario: inputs against outputs and dead letters, by set.

lost = inputs - (causation ids of predictions ∪ ids of dead-lettered inputs); duplicates are
prediction records beyond one per input (redeliveries carry the same prediction id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from events import Decoded, decode_kafka, original_input

CHAOS_ID = "x-chaos-id"  # a header naming a hostile record, kept in its dead letter


@dataclass
class Audit:
    """What a scenario's outputs say about its inputs."""

    inputs: set[str]
    predicted: Counter[str] = field(default_factory=Counter)
    prediction_ids: dict[str, set[str]] = field(default_factory=dict)
    dead: dict[str, Any] = field(default_factory=dict)  # input id -> its dead letter payload

    @property
    def lost(self) -> set[str]:
        return self.inputs - set(self.predicted) - set(self.dead)

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.predicted.values() if count > 1)

    @property
    def unstable_ids(self) -> set[str]:
        """Inputs whose redelivered predictions carry different ids (must be none)."""
        return {key for key, ids in self.prediction_ids.items() if len(ids) > 1}

    def figures(self) -> dict[str, int]:
        return {
            "inputs": len(self.inputs),
            "predicted": len(set(self.predicted) & self.inputs),
            "dead-lettered": len(set(self.dead) & self.inputs),
            "lost": len(self.lost),
            "duplicates": self.duplicates,
        }


def audit(inputs: Iterable[str], predictions: Iterable[Any], dead_letters: Iterable[Any]) -> Audit:
    """Args:
    inputs: the ids of everything sent (payment ids, or CHAOS_ID values of hostile records).
    predictions, dead_letters: consumer records read from the two output topics.
    """
    result = Audit(set(inputs))
    for record in predictions:
        decoded = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(decoded, Decoded), f"an unreadable prediction record: {decoded}"
        input_id = decoded.event.data.input_id
        result.predicted[input_id] += 1
        result.prediction_ids.setdefault(input_id, set()).add(decoded.event.id)
    for record in dead_letters:
        decoded = decode_kafka(record.key, record.value, record.headers, max_bytes=8 * 1024 * 1024)
        assert isinstance(decoded, Decoded), f"an unreadable dead letter: {decoded}"
        letter = decoded.event.data
        original = original_input(letter)
        names = dict(original.headers)
        if CHAOS_ID in names:
            result.dead[names[CHAOS_ID].decode()] = letter
        elif decoded.event.causationid:
            result.dead[decoded.event.causationid] = letter
    return result
