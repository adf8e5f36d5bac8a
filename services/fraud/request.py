"""The fraud use case's request-time features, computed from the payment and its stored features.

Configured in the scoring settings (`request_features`) as
``services.fraud.request:payment_request_features``; the formulas are in services.fraud.features,
shared with the offline backfill.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.core.ports import StoredFeature
from services.fraud.features import LAST_PAYMENT_TS, request_features

_MISSING = StoredFeature(None, None)


def payment_request_features(payment: Any, stored: Mapping[str, StoredFeature]) -> dict[str, float]:
    """Amount, hour, seconds since the card's previous payment, amount to card mean, channel."""
    return request_features(
        payment.amount,
        payment.timestamp,
        str(payment.channel),
        stored.get(LAST_PAYMENT_TS, _MISSING).value,
        stored.get("card_mean_amount_7d", _MISSING).value,
    )
