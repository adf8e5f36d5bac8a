"""Which predictions get an explanation, and why."""

from __future__ import annotations

import pytest

from events import Decision, ExplainReason
from services.core.scoring.policy import ExplanationPolicy

pytestmark = pytest.mark.unit
IDS = [f"pay-{number}" for number in range(4000)]


def test_sampling_is_uniform_over_all_decisions_flagged_included() -> None:
    policy = ExplanationPolicy(flagged=True, sample_rate=0.1)
    approved = [policy.reason(i, 0.01, Decision.APPROVE) for i in IDS]
    declined = [policy.reason(i, 0.99, Decision.DECLINE) for i in IDS]
    sampled_approved = {i for i, r in zip(IDS, approved, strict=True) if r is ExplainReason.SAMPLED}
    sampled_declined = {i for i, r in zip(IDS, declined, strict=True) if r is ExplainReason.SAMPLED}
    # The same ids are sampled whatever the decision: a uniform sample of all predictions.
    assert sampled_approved == sampled_declined
    assert 300 < len(sampled_approved) < 500
    assert all(
        r is ExplainReason.FLAGGED for i, r in zip(IDS, declined, strict=True) if i not in sampled_declined
    )
    assert all(r is None for i, r in zip(IDS, approved, strict=True) if i not in sampled_approved)


def test_order_always_then_sample_then_flagged_then_band() -> None:
    assert (
        ExplanationPolicy(always=True, sample_rate=1.0).reason("x", 0.9, Decision.DECLINE)
        is ExplainReason.ALWAYS
    )
    assert ExplanationPolicy(sample_rate=1.0).reason("x", 0.9, Decision.DECLINE) is ExplainReason.SAMPLED
    band = ExplanationPolicy(flagged=True, score_band=(0.4, 0.6))
    assert band.reason("x", 0.5, Decision.REVIEW) is ExplainReason.FLAGGED
    assert band.reason("x", 0.5, Decision.APPROVE) is ExplainReason.SCORE_BAND
    assert band.reason("x", 0.7, Decision.APPROVE) is None
