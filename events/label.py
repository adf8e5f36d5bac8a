"""Payload of `dev.rtinfer.label.v1`: the confirmed outcome of one payment, known late."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from events.contract import Contract, NonEmptyStr, SafeId


class Label(Contract):
    """A delayed label (e.g. a chargeback) for one payment."""

    payment_id: SafeId = Field(description="the labeled payment; equals the prediction's input_id")
    card_id: SafeId = Field(description="card token; the event subject and partition key")
    is_fraud: Literal[0, 1] = Field(description="1 = fraud confirmed (e.g. a chargeback), 0 = legitimate")
    label_time: AwareDatetime = Field(description="when the outcome became known (offset required)")
    reason: NonEmptyStr | None = Field(default=None, description="e.g. a chargeback reason code")
