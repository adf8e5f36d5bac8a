"""The batched enrichment gives exactly what the per-event one gives: the same model inputs, the
same feature records (byte for byte in JSON), the same stale and defaulted lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.ports import StoredFeature
from services.core.scoring.enrich import enrich_row, enrich_rows
from services.core.scoring.policy import FreshnessPolicy, StalePolicy

pytestmark = pytest.mark.unit
NAMES = ("amount", "card_count_1h", "card_mean_amount_7d", "merchant_fraud_rate_30d", "hour")
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _request(payment: Any, stored: Any) -> dict[str, float]:
    mean = stored.get("card_mean_amount_7d", StoredFeature(None, None)).value
    return {
        "amount": payment["amount"],
        "hour": float(payment["hour"]),
        "ratio": payment["amount"] / (mean or 1.0),
    }


stored_feature = st.builds(
    StoredFeature,
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
    st.one_of(
        st.none(),
        st.integers(-40 * 86400 * 10**6, 3 * 10**6).map(lambda us: AT + timedelta(microseconds=us)),
    ),
)
rows = st.lists(
    st.tuples(
        st.fixed_dictionaries({"amount": st.floats(0, 1e5), "hour": st.integers(0, 23)}),
        st.dictionaries(st.sampled_from((*NAMES[1:4], "unused")), stored_feature),
        st.integers(-5 * 10**6, 5 * 10**6).map(lambda us: AT + timedelta(microseconds=us)),
    ),
    min_size=1,
    max_size=20,
)
policies = st.builds(
    FreshnessPolicy,
    max_age_s=st.sampled_from(((), (("card_*", 3600.0),), (("card_count_1h", 60.0), ("*", 86400.0)))),
    on_stale=st.sampled_from(list(StalePolicy)),
    defaults=st.sampled_from(((), (("card_*", 0.0),))),
)


@settings(max_examples=300, deadline=None)
@given(rows, policies)
def test_batched_enrichment_equals_the_per_event_one(batch: list[Any], freshness: FreshnessPolicy) -> None:
    payloads = [payload for payload, _, _ in batch]
    stored = [features for _, features, _ in batch]
    ats = [at for _, _, at in batch]
    batched = enrich_rows(payloads, stored, NAMES, _request, freshness, ats)
    for got, (payload, features, at) in zip(batched, batch, strict=True):
        want = enrich_row(payload, features, NAMES, _request, freshness, at)
        np.testing.assert_array_equal(np.asarray(got.vector), np.asarray(want.vector))
        assert got.stale == want.stale and got.defaulted == want.defaulted
        assert list(got.uses) == list(want.uses)
        for name in NAMES:
            assert got.uses[name].model_dump_json() == want.uses[name].model_dump_json(), name
