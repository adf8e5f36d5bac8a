"""Payload of `dev.rtinfer.payment.authorized.v1`: one card payment to score."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, WithJsonSchema

from events.contract import Contract, SafeId
from events.isocodes import COUNTRIES, CURRENCIES


class Channel(StrEnum):
    POS = "pos"
    ECOM = "ecom"
    ATM = "atm"
    MOTO = "moto"


class CardType(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    PREPAID = "prepaid"


def _check_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"{code!r} is not an active ISO 4217 currency code")
    return code


def _check_country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


Currency = Annotated[
    str,
    AfterValidator(_check_currency),
    WithJsonSchema({"type": "string", "enum": sorted(CURRENCIES), "description": "ISO 4217 alpha-3"}),
]
Country = Annotated[
    str,
    AfterValidator(_check_country),
    WithJsonSchema({"type": "string", "enum": sorted(COUNTRIES), "description": "ISO 3166-1 alpha-2"}),
]
MerchantCategory = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class Payment(Contract):
    """A card payment authorization, as the acquirer reported it."""

    payment_id: SafeId = Field(description="unique per payment; also the CloudEvent id")
    card_id: SafeId = Field(description="card token; the event subject and partition key")
    merchant_id: SafeId
    amount: float = Field(gt=0, le=1_000_000, allow_inf_nan=False, description="in major units")
    currency: Currency
    timestamp: AwareDatetime = Field(description="when the payment was authorized (offset required)")
    country: Country
    merchant_category: MerchantCategory = Field(description="ISO 18245 merchant category code")
    channel: Channel
    card_type: CardType
