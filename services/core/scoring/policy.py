"""Scoring policies: decision thresholds, feature freshness, explanation rules. Pure data."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from events import Decision, ExplainReason


class NeighboursFor(StrEnum):
    """Which predictions carry the labelled neighbours (the vector search runs for those only)."""

    ALL = "all"  # every prediction; searched concurrently with the model call
    FLAGGED = "flagged"  # decision review or decline: the cases a reviewer opens
    EXPLAINED = "explained"  # the predictions that get an explanation event
    NONE = "none"  # no vector search at all

    def wants(self, decision: Decision, explain: ExplainReason | None) -> bool:
        if self is NeighboursFor.ALL:
            return True
        if self is NeighboursFor.FLAGGED:
            return decision is not Decision.APPROVE
        if self is NeighboursFor.EXPLAINED:
            return explain is not None
        return False


class StalePolicy(StrEnum):
    """What to do with a feature older than its max age."""

    REJECT = "reject"  # the event goes to the DLQ (stage enrich, reason stale_features)
    FLAG = "flag"  # keep the value, mark it stale, flag the prediction degraded
    DEFAULT = "default"  # replace it with the configured default, mark it defaulted


@dataclass(frozen=True)
class FreshnessPolicy:
    """Max age per feature (glob patterns, first match wins; no match means no limit)."""

    max_age_s: tuple[tuple[str, float], ...] = ()
    on_stale: StalePolicy = StalePolicy.FLAG
    defaults: tuple[tuple[str, float], ...] = ()

    def max_age(self, feature: str) -> float | None:
        return _first_match(self.max_age_s, feature)

    def default(self, feature: str) -> float:
        for pattern, value in self.defaults:
            if fnmatch.fnmatchcase(feature, pattern):
                return value
        return float("nan")


@dataclass(frozen=True)
class DecisionPolicy:
    review_at: float = 0.5
    decline_at: float = 0.9

    def decide(self, score: float) -> Decision:
        if score >= self.decline_at:
            return Decision.DECLINE
        if score >= self.review_at:
            return Decision.REVIEW
        return Decision.APPROVE


@dataclass(frozen=True)
class ExplanationPolicy:
    """Which predictions get an explanation event; rules are checked in this order."""

    always: bool = False
    # Deterministic by input id, so a redelivery decides the same. Checked before the others so
    # that "sampled" explanations are a uniform sample of all predictions, flagged ones included:
    # what attribution drift needs.
    sample_rate: float = 0.0
    flagged: bool = True  # decision is review or decline
    score_band: tuple[float, float] | None = None  # low confidence: lo <= score <= hi

    def reason(self, input_id: str, score: float, decision: Decision) -> ExplainReason | None:
        if self.always:
            return ExplainReason.ALWAYS
        if self.sample_rate > 0 and _unit_hash(input_id) < self.sample_rate:
            return ExplainReason.SAMPLED
        if self.flagged and decision is not Decision.APPROVE:
            return ExplainReason.FLAGGED
        if self.score_band and self.score_band[0] <= score <= self.score_band[1]:
            return ExplainReason.SCORE_BAND
        return None


@functools.lru_cache(maxsize=4096)
def _first_match(rules: tuple[tuple[str, float], ...], name: str) -> float | None:
    # Called for every feature of every event: the glob matching is cached per name.
    for pattern, value in rules:
        if fnmatch.fnmatchcase(name, pattern):
            return value
    return None


def _unit_hash(text: str) -> float:
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class ScoringPolicy:
    """Everything the pure pipeline needs to know besides its ports."""

    entity_keys: tuple[tuple[str, str], ...] = (("card_id", "card_id"), ("merchant_id", "merchant_id"))
    segment_fields: tuple[str, ...] = ("country", "card_type", "merchant_category", "channel")
    decision: DecisionPolicy = field(default_factory=DecisionPolicy)
    freshness: FreshnessPolicy = field(default_factory=FreshnessPolicy)
    explanation: ExplanationPolicy = field(default_factory=ExplanationPolicy)
    neighbours_k: int = 5
    neighbours_for: NeighboursFor = NeighboursFor.FLAGGED
    degrade_without_neighbours: bool = True  # vector search down: emit flagged outputs
    features_timeout_s: float = 1.0
    model_timeout_s: float = 2.0
    vectors_timeout_s: float = 1.0
    top_contributions: int = 5
    source: str = "/rtinfer/scoring"
    # Rows per micro-batch: a larger batch runs as micro-batches of this size concurrently, the
    # CPU work of one overlapping the I/O waits of another (None: the batch is one micro-batch).
    micro_batch: int | None = None
