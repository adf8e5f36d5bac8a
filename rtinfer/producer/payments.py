"""Turning generated payment rows into CloudEvents (binary mode, key = card id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from opentelemetry.trace import SpanKind, Tracer

from events import Event, KafkaRecord, Mode, Payment, encode_kafka, new_payment_event
from services.adapters.tracing import traceparent_of

PAYMENT_COLUMNS = (
    "payment_id",
    "card_id",
    "merchant_id",
    "amount",
    "currency",
    "timestamp",
    "country",
    "merchant_category",
    "channel",
    "card_type",
)


def payment_events(
    payments: pd.DataFrame, source: str, tracer: Tracer | None = None
) -> Iterator[Event[Payment]]:
    """One input event per row, in the frame's order.

    Args:
        tracer: when given, each event gets a producer span and carries it as traceparent,
            so the whole path of the payment is one trace.
    """
    frame = payments.loc[:, list(PAYMENT_COLUMNS)]
    for row in frame.itertuples(index=False):
        fields: dict[str, Any] = row._asdict()
        fields["timestamp"] = fields["timestamp"].to_pydatetime()
        fields["amount"] = float(fields["amount"])
        # Rows come from our own generator: lax mode turns strings into the enum types.
        payment = Payment.model_validate(fields, strict=False)
        if tracer is None:
            yield new_payment_event(payment, source=source)
            continue
        with tracer.start_as_current_span(
            "publish payments",
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.message.id": payment.payment_id},
        ) as span:
            yield new_payment_event(payment, source=source, traceparent=traceparent_of(span))


def payment_records(
    payments: pd.DataFrame, source: str, mode: Mode = Mode.BINARY, tracer: Tracer | None = None
) -> Iterator[KafkaRecord]:
    for event in payment_events(payments, source, tracer):
        yield encode_kafka(event, mode)
