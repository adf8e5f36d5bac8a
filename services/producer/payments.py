"""Turning generated payment rows into CloudEvents (binary mode, key = card id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from events import Event, KafkaRecord, Mode, Payment, encode_kafka, new_payment_event

PAYMENT_COLUMNS = (
    "payment_id", "card_id", "merchant_id", "amount", "currency", "timestamp",
    "country", "merchant_category", "channel", "card_type",
)


def payment_events(payments: pd.DataFrame, source: str) -> Iterator[Event[Payment]]:
    """One input event per row, in the frame's order."""
    frame = payments.loc[:, list(PAYMENT_COLUMNS)]
    for row in frame.itertuples(index=False):
        fields: dict[str, Any] = row._asdict()
        fields["timestamp"] = fields["timestamp"].to_pydatetime()
        fields["amount"] = float(fields["amount"])
        # Rows come from our own generator: lax mode turns strings into the enum types.
        yield new_payment_event(Payment.model_validate(fields, strict=False), source=source)


def payment_records(payments: pd.DataFrame, source: str, mode: Mode = Mode.BINARY) -> Iterator[KafkaRecord]:
    for event in payment_events(payments, source):
        yield encode_kafka(event, mode)
