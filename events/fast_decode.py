"""A batch decoder for Kafka binary-mode payment events: compiled on the common path, exact always.

`decode_kafka_batch` gives, record by record, what `decode_kafka` gives (equal events, equal
failures). A record it can decide with certainty (binary mode, plain `application/json`, the
payment type, a payload msgspec decodes under the contract's constraints, an envelope that keeps
the contract) is built without pydantic validation; every other record, and every one that would
fail, goes to `decode_kafka`, so failures keep their reasons, fields and messages. The fast checks
are never more lenient than the contract: where they could disagree with pydantic (timestamps
other than canonical RFC 3339, a final newline under a `$` pattern) they are stricter and the
record falls back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import msgspec
from pydantic_core import TzInfo

from events.envelope import JSON_CONTENT_TYPE, NAMED_ATTRIBUTES, RESERVED_NAMES, Event, TimeSource
from events.isocodes import COUNTRIES, CURRENCIES
from events.kafka_binding import DEFAULT_MAX_BYTES, decode_kafka
from events.payment import CardType, Channel, Payment
from events.results import Decoded, DecodeFailure, Mode
from events.types import EVENT_TYPES, PAYMENT_AUTHORIZED
from events.wire import parse_time

KafkaTuple = tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes]]]

# The contract's string patterns without their anchors, checked by one fullmatch per payload
# (cheaper than one re.search per field; fullmatch also reads the end as end of input, as
# pydantic and JSON Schema do, where re.search lets `$` match before a final newline).
SAFE_ID_BODY = r"[A-Za-z0-9_.:@-]+"
MERCHANT_CATEGORY_BODY = r"[0-9]{4}"
# Canonical RFC 3339 with an offset and every field in range: a subset of what pydantic parses,
# on which datetime.fromisoformat agrees with it (pydantic also takes `t`, a space, `+0530`,
# more than six fraction digits, a unix time in a string...: those records fall back).
CANONICAL_TIMESTAMP_BODY = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?P<offset>Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_PATTERNS = re.compile(
    " ".join([SAFE_ID_BODY] * 3 + [MERCHANT_CATEGORY_BODY, CANONICAL_TIMESTAMP_BODY]), re.ASCII
)
_EXTENSION_NAME = re.compile(r"[a-z0-9]+", re.ASCII)

_SafeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Amount = Annotated[float, msgspec.Meta(gt=0, le=1_000_000)]  # the bound also excludes inf
if TYPE_CHECKING:
    _Currency = str
    _Country = str
else:
    _Currency = Literal[tuple(sorted(CURRENCIES))]
    _Country = Literal[tuple(sorted(COUNTRIES))]


class PaymentStruct(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """`Payment`'s fields, types, bounds and enums as msgspec constraints (patterns: `_PATTERNS`)."""

    payment_id: _SafeId
    card_id: _SafeId
    merchant_id: _SafeId
    amount: _Amount
    currency: _Currency
    timestamp: str
    country: _Country
    merchant_category: str
    channel: Channel
    card_type: CardType


_PAYMENT_DECODER = msgspec.json.Decoder(PaymentStruct)
_PAYMENT_FIELDS = frozenset(Payment.model_fields)
_PAYMENT_SCHEMA = EVENT_TYPES[PAYMENT_AUTHORIZED].dataschema
_OPTIONAL = ("subject", "dataschema", "partitionkey", "traceparent", "tracestate", "causationid")
# The fields `_event` sets; should Event gain one, every record falls back until `_event` sets it.
EVENT_FIELDS = (
    "id", "source", "type", "time", "time_source", "data", "subject", "dataschema",
    "datacontenttype", "specversion", "partitionkey", "traceparent", "tracestate", "causationid",
    "extensions",
)  # fmt: skip
_ENABLED = tuple(field.name for field in dataclasses.fields(Event)) == EVENT_FIELDS
_ZONES: dict[str, TzInfo] = {}
_HEADER_ROLES: dict[str, str | bool] = {}
_MAX_HEADER_ROLES = 1024
_set = object.__setattr__


def decode_kafka_batch(
    records: Iterable[KafkaTuple],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    received_at: datetime | None = None,
) -> list[Decoded | DecodeFailure]:
    """`decode_kafka` of each (key, value, headers) record, in order, with equal results;
    never raises.

    Args:
        max_bytes: as in `decode_kafka`, per record.
        received_at: as in `decode_kafka` (read only for an event without a time of its own).
    """
    results: list[Decoded | DecodeFailure] = []
    for key, value, headers in records:
        try:
            decoded = _fast(key, value, headers, max_bytes)
        except Exception:  # undecided here: the reference decoder has the final word
            decoded = None
        if decoded is None:
            # decode_kafka only iterates over the headers: any sequence of pairs will do.
            wire_headers = cast("list[tuple[str, bytes]]", headers)
            results.append(
                decode_kafka(key, value, wire_headers, max_bytes=max_bytes, received_at=received_at)
            )
        else:
            results.append(decoded)
    return results


def _fast(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]], max_bytes: int
) -> Decoded | None:
    """The decoded record, or None when decode_kafka must decide (raising means the same)."""
    if not _ENABLED or type(value) is not bytes or len(value) > max_bytes:
        return None
    attributes: dict[str, str] = {}
    content_type = None
    size = 0
    for name, raw in headers:
        size += len(name) + len(raw)
        role = _HEADER_ROLES.get(name)
        if role is None:
            role = _header_role(name)
        if role is True:
            content_type = raw.decode("utf-8")
        elif role is not False:
            text = raw.decode("utf-8")
            if attributes.setdefault(role, text) != text:
                return None
    if size > max_bytes or content_type != JSON_CONTENT_TYPE or attributes.get("specversion") != "1.0":
        return None
    if attributes.setdefault("datacontenttype", JSON_CONTENT_TYPE) != JSON_CONTENT_TYPE:
        return None
    if key:
        partitionkey = key.decode("utf-8")
        if attributes.setdefault("partitionkey", partitionkey) != partitionkey:
            return None
    if (
        attributes.get("type") != PAYMENT_AUTHORIZED
        or not attributes.get("id")
        or not attributes.get("source")
    ):
        return None
    payment = payment_from_json(value)
    return _event(attributes, payment)


def _header_role(name: str) -> str | bool:
    """What a header is to the binding: a ce_ attribute (its name), content-type (True), or
    neither (False); remembered for the next record (up to a bound: names come from outside)."""
    lowered = name.lower()
    role = lowered[3:] if lowered.startswith("ce_") else lowered == "content-type"
    if len(_HEADER_ROLES) < _MAX_HEADER_ROLES:
        _HEADER_ROLES[name] = role
    return role


def _event(attributes: dict[str, str], payment: Payment) -> Decoded | None:
    """The event decode_kafka builds, when the envelope keeps the contract (check_envelope's
    rules that the fast path does not already guarantee by construction)."""
    optional = [attributes.get(name) for name in _OPTIONAL]
    if "" in optional:
        return None
    subject, dataschema = optional[0], optional[1]
    if (subject is not None and subject != payment.card_id) or dataschema not in (None, _PAYMENT_SCHEMA):
        return None
    extensions: dict[str, str] = {}
    if not attributes.keys() <= NAMED_ATTRIBUTES:  # most events carry no extension
        extensions = {name: text for name, text in attributes.items() if name not in NAMED_ATTRIBUTES}
        for name in extensions:
            if name in RESERVED_NAMES or not _EXTENSION_NAME.fullmatch(name):
                return None
    time_text = attributes.get("time")
    if time_text is None:
        time, time_source = payment.timestamp, TimeSource.PAYLOAD
    else:
        time, time_source = parse_time(time_text), TimeSource.ATTRIBUTE
    event = object.__new__(Event)
    _set(event, "id", attributes["id"])
    _set(event, "source", attributes["source"])
    _set(event, "type", PAYMENT_AUTHORIZED)
    _set(event, "time", time)
    _set(event, "time_source", time_source)
    _set(event, "data", payment)
    _set(event, "subject", subject)
    _set(event, "dataschema", dataschema)
    _set(event, "datacontenttype", JSON_CONTENT_TYPE)
    _set(event, "specversion", "1.0")
    _set(event, "partitionkey", optional[2])
    _set(event, "traceparent", optional[3])
    _set(event, "tracestate", optional[4])
    _set(event, "causationid", optional[5])
    _set(event, "extensions", extensions)
    return Decoded(event, Mode.BINARY)


def payment_from_json(value: bytes) -> Payment:
    """The `Payment` pydantic validates from `value`, built without validating it again.

    Raises msgspec.ValidationError, msgspec.DecodeError or ValueError when the fast checks
    cannot vouch for the payload (it may still be valid: `Payment.model_validate_json` decides).
    """
    fields = _PAYMENT_DECODER.decode(value)
    patterns = _PATTERNS.fullmatch(
        f"{fields.payment_id} {fields.card_id} {fields.merchant_id} "
        f"{fields.merchant_category} {fields.timestamp}"
    )
    if patterns is None:
        raise ValueError("a payload string is outside the fast decoder's patterns")
    values: dict[str, Any] = {
        "payment_id": fields.payment_id,
        "card_id": fields.card_id,
        "merchant_id": fields.merchant_id,
        "amount": fields.amount,
        "currency": fields.currency,
        "timestamp": _aware(fields.timestamp, patterns["offset"]),
        "country": fields.country,
        "merchant_category": fields.merchant_category,
        "channel": fields.channel,
        "card_type": fields.card_type,
    }
    # What Payment.model_construct leaves behind, at a fraction of its cost.
    payment = object.__new__(Payment)
    _set(payment, "__dict__", values)
    _set(payment, "__pydantic_fields_set__", set(_PAYMENT_FIELDS))
    _set(payment, "__pydantic_extra__", None)
    _set(payment, "__pydantic_private__", None)
    return payment


def _aware(text: str, offset: str) -> datetime:
    """A canonical RFC 3339 timestamp as pydantic parses it, its TzInfo included."""
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, TzInfo(_offset_seconds(offset)))
    naive = datetime.fromisoformat(text[: -len(offset)])
    return datetime.combine(naive, naive.time(), zone)


def _offset_seconds(offset: str) -> int:
    if offset == "Z":
        return 0
    seconds = int(offset[1:3]) * 3600 + int(offset[4:6]) * 60
    return -seconds if offset[0] == "-" else seconds
