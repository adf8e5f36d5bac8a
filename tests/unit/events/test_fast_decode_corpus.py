"""One corpus of payment records through three judges: the committed JSON Schema (on the payload),
decode_kafka, and the fast batch decoder. The two decoders give equal results on every record;
the schema and the decoders agree on every payload's validity, except the listed gaps."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import jsonschema
import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    PAYMENT_AUTHORIZED,
    Decoded,
    DecodeFailure,
    Mode,
    Payment,
    ReasonCode,
    decode_kafka,
    encode_kafka,
    fast_decode,
)
from events.envelope import Event, check_envelope
from events.fast_decode import (
    CANONICAL_TIMESTAMP_BODY,
    MERCHANT_CATEGORY_BODY,
    SAFE_ID_BODY,
    PaymentStruct,
    decode_kafka_batch,
)
from events.schemas import schema_path
from events.testing import events_of, json_values, payments, sample_payment_event

pytestmark = pytest.mark.unit

MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Record = tuple[Any, Any, Any]
SCHEMA = orjson.loads(schema_path(PAYMENT_AUTHORIZED).read_bytes())
EVENT = sample_payment_event()
BINARY = encode_kafka(EVENT)
PAYLOAD = orjson.loads(BINARY.value)
FIELDS = list(PAYLOAD)
# Payloads are judged without ce_subject, which ties the envelope to data.card_id.
PAYLOAD_HEADERS = [(name, raw) for name, raw in BINARY.headers if name != "ce_subject"]


# --- the first judge: the committed schema, read as JSON Schema 2020-12 specifies ------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))", re.ASCII
)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_date_time(text: object) -> bool:
    """RFC 3339 `date-time` (section 5.6 with the ranges of 5.7): what `format` asserts."""
    if not isinstance(text, str):
        return True
    match = _RFC3339.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, offset_h, offset_m = (
        int(group) if group else 0 for group in match.groups()
    )
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1] + (leap and month == 2):
        return False
    return hour <= 23 and minute <= 59 and second <= 60 and offset_h <= 23 and offset_m <= 59


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # JSON Schema patterns are ECMA-262: `$` is the end of input. python-jsonschema uses
    # re.search, where `$` also matches before a final newline.
    if isinstance(instance, str) and not re.search(pattern.removesuffix("$") + r"\Z", instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("date-time")(_is_date_time)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})
VALIDATOR = _Validator(SCHEMA, format_checker=_FORMATS)


def schema_verdict(value: bytes) -> bool:
    """Whether `value` is one JSON document that the committed schema accepts."""
    try:
        text = value.decode("utf-8")
        document = json.loads(text, parse_constant=_not_json)
    except ValueError:
        return False
    return bool(VALIDATOR.is_valid(document))


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


# --- the other two judges ---------------------------------------------------------------------


def judge(record: Record) -> Decoded | DecodeFailure:
    """decode_kafka and the fast decoder on one record: they must give equal results."""
    key, value, headers = record
    reference = decode_kafka(key, value, headers)
    [fast] = decode_kafka_batch([record])
    assert_same(fast, reference)
    return reference


def assert_same(fast: Decoded | DecodeFailure, reference: Decoded | DecodeFailure) -> None:
    assert fast == reference
    if isinstance(reference, Decoded):
        assert isinstance(fast, Decoded)
        event, expected = fast.event, reference.event
        # Beyond ==: the same internal state, tzinfo classes and attribute order.
        assert event.data.__getstate__() == expected.data.__getstate__()
        assert type(event.data.timestamp.tzinfo) is type(expected.data.timestamp.tzinfo)
        assert type(event.time.tzinfo) is type(expected.time.tzinfo)
        assert list(event.extensions.items()) == list(expected.extensions.items())
        assert (event.time_source, fast.mode) == (expected.time_source, reference.mode)
        check_envelope(event)


def with_payload(payload: Any = None, *, value: bytes | None = None) -> Record:
    """The sample binary record carrying another payload."""
    raw = value if value is not None else dumps(payload)
    return BINARY.key, raw, list(PAYLOAD_HEADERS)


def dumps(document: Any) -> bytes:
    """JSON with integers of any size (orjson stops at 64 bits)."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False).encode()


def changed(**changes: Any) -> dict[str, Any]:
    return {**PAYLOAD, **changes}


def without(name: str) -> dict[str, Any]:
    return {field: value for field, value in PAYLOAD.items() if field != name}


def assert_verdicts_agree(record: Record) -> None:
    result = judge(record)
    assert schema_verdict(record[1]) == isinstance(result, Decoded), result


# --- hand-written payloads --------------------------------------------------------------------

PAYLOADS: dict[str, Record] = {
    "sample": with_payload(PAYLOAD),
    "amount integer": with_payload(changed(amount=5)),
    "amount at the maximum": with_payload(changed(amount=1_000_000)),
    "amount just above the maximum": with_payload(changed(amount=1_000_000.0000001)),
    "amount zero": with_payload(changed(amount=0)),
    "amount negative": with_payload(changed(amount=-0.01)),
    "amount tiny": with_payload(changed(amount=5e-324)),
    "amount huge integer": with_payload(changed(amount=10**30)),
    "amount infinite": with_payload(value=BINARY.value.replace(b"42.5", b"1e400")),
    "amount NaN literal": with_payload(value=BINARY.value.replace(b"42.5", b"NaN")),
    "amount many digits": with_payload(value=BINARY.value.replace(b"42.5", b"42.50000000000000000000001")),
    "amount as a string": with_payload(changed(amount="42.5")),
    "amount boolean": with_payload(changed(amount=True)),
    "amount null": with_payload(changed(amount=None)),
    "currency unknown": with_payload(changed(currency="XXX")),
    "currency lowercase": with_payload(changed(currency="eur")),
    "currency a fund code": with_payload(changed(currency="XDR")),
    "country lowercase": with_payload(changed(country="fr")),
    "country unknown": with_payload(changed(country="ZZ")),
    "country alpha-3": with_payload(changed(country="FRA")),
    "merchant category short": with_payload(changed(merchant_category="541")),
    "merchant category number": with_payload(changed(merchant_category=5411)),
    "merchant category arabic digits": with_payload(changed(merchant_category="\u0665\u0664\u0661\u0661")),
    "merchant category newline": with_payload(changed(merchant_category="5411\n")),
    "payment id newline": with_payload(changed(payment_id="pay-1\n")),
    "payment id space": with_payload(changed(payment_id="pay 1")),
    "payment id empty": with_payload(changed(payment_id="")),
    "payment id 64": with_payload(changed(payment_id="p" * 64)),
    "payment id 65": with_payload(changed(payment_id="p" * 65)),
    "card id unicode": with_payload(changed(card_id="card-\u00e9")),
    "channel unknown": with_payload(changed(channel="phone")),
    "channel uppercase": with_payload(changed(channel="ECOM")),
    "card type number": with_payload(changed(card_type=1)),
    "timestamp with offset": with_payload(changed(timestamp="2025-03-01T12:00:00+05:30")),
    "timestamp negative zero offset": with_payload(changed(timestamp="2025-03-01T12:00:00-00:00")),
    "timestamp microseconds": with_payload(changed(timestamp="2025-03-01T12:00:00.123456-08:00")),
    "timestamp nanoseconds": with_payload(changed(timestamp="2025-03-01T12:00:00.123456789Z")),
    "timestamp lowercase t and z": with_payload(changed(timestamp="2025-03-01t12:00:00z")),
    "timestamp year 1": with_payload(changed(timestamp="0001-01-01T00:00:00+05:00")),
    "timestamp year 9999": with_payload(changed(timestamp="9999-12-31T23:59:59-05:00")),
    "timestamp naive": with_payload(changed(timestamp="2025-03-01T12:00:00")),
    "timestamp date only": with_payload(changed(timestamp="2025-03-01")),
    "timestamp February 30": with_payload(changed(timestamp="2025-02-30T12:00:00Z")),
    "timestamp hour 24": with_payload(changed(timestamp="2025-03-01T24:00:00Z")),
    "timestamp offset 24 hours": with_payload(changed(timestamp="2025-03-01T12:00:00+24:00")),
    "timestamp offset minute 60": with_payload(changed(timestamp="2025-03-01T12:00:00+05:60")),
    "timestamp offset without minutes": with_payload(changed(timestamp="2025-03-01T12:00:00+05")),
    "timestamp trailing newline": with_payload(changed(timestamp="2025-03-01T12:00:00Z\n")),
    "timestamp as a number": with_payload(changed(timestamp=1735689600)),
    "missing card id": with_payload(without("card_id")),
    "missing timestamp": with_payload(without("timestamp")),
    "extra field": with_payload(changed(cvv="123")),
    "extra null field": with_payload(changed(note=None)),
    "duplicate key, last wins": with_payload(value=BINARY.value[:-1] + b',"amount":7}'),
    "duplicate key, last is bad": with_payload(value=BINARY.value[:-1] + b',"amount":-7}'),
    "empty object": with_payload({}),
    "array": with_payload([PAYLOAD]),
    "null": with_payload(value=b"null"),
    "string": with_payload(value=b'"payment"'),
    "empty value": with_payload(value=b""),
    "whitespace around": with_payload(value=b" \n" + BINARY.value + b"\t "),
    "byte order mark": with_payload(value=b"\xef\xbb\xbf" + BINARY.value),
    "carriage return before": with_payload(value=b"\r" + BINARY.value),
    "form feed before": with_payload(value=b"\x0c" + BINARY.value),
    "no-break space before": with_payload(value=b"\xc2\xa0" + BINARY.value),
    "NUL after": with_payload(value=BINARY.value + b"\x00"),
    "escaped key": with_payload(value=BINARY.value.replace(b'"amount"', b'"amoun\\u0074"')),
    "duplicate key, first is bad": with_payload(value=b'{"amount":-1,' + BINARY.value[1:]),
    "trailing garbage": with_payload(value=BINARY.value + b"x"),
    "two documents": with_payload(value=BINARY.value + BINARY.value),
    "not UTF-8": with_payload(value=BINARY.value.replace(b"pay-0001", b"pay-\xff\xfe")),
    "not UTF-8 in an extra key": with_payload(value=BINARY.value[:-1] + b',"\xff":1}'),
    "escaped id": with_payload(value=BINARY.value.replace(b'"pay-0001"', b'"pay-\\u0030001"')),
    "lone surrogate": with_payload(value=BINARY.value.replace(b'"pay-0001"', b'"pay-\\ud800"')),
    "deeply nested extra": with_payload(value=BINARY.value[:-1] + b',"x":' + b"[" * 300 + b"]" * 300 + b"}"),
}

# Where the committed schema and the contract (Payment, so both decoders) disagree today. Each
# entry is asserted to disagree: when the contract is tightened, move it to PAYLOADS.
SCHEMA_GAPS: dict[str, tuple[Record, bool]] = {  # record, the schema's verdict
    "timestamp leap second": (with_payload(changed(timestamp="2016-12-31T23:59:60Z")), True),
    "timestamp year 0000": (with_payload(changed(timestamp="0000-01-01T00:00:00Z")), True),
    "timestamp with a space": (with_payload(changed(timestamp="2025-03-01 12:00:00Z")), False),
    "timestamp without seconds": (with_payload(changed(timestamp="2025-03-01T12:00Z")), False),
    "timestamp offset without colon": (with_payload(changed(timestamp="2025-03-01T12:00:00+0530")), False),
    "timestamp comma fraction": (with_payload(changed(timestamp="2025-03-01T12:00:00,5Z")), False),
    "timestamp unix seconds in a string": (with_payload(changed(timestamp="1735689600")), False),
}


@pytest.mark.parametrize("case", PAYLOADS)
def test_the_three_judges_agree_on_each_payload(case: str) -> None:
    assert_verdicts_agree(PAYLOADS[case])


@pytest.mark.parametrize("case", SCHEMA_GAPS)
def test_known_gaps_between_schema_and_contract_are_still_gaps(case: str) -> None:
    record, schema_says = SCHEMA_GAPS[case]
    result = judge(record)
    assert schema_verdict(record[1]) is schema_says
    assert isinstance(result, Decoded) is not schema_says


def test_the_corpus_has_both_verdicts() -> None:
    verdicts = [isinstance(judge(record), Decoded) for record in PAYLOADS.values()]
    assert 10 < verdicts.count(True) < len(verdicts) - 30


# --- hand-written envelopes and records -------------------------------------------------------


def with_headers(
    *, drop: tuple[str, ...] = (), set_to: dict[str, bytes] | None = None, key: Any = BINARY.key
) -> Record:
    replaced = set_to or {}
    headers = [(name, replaced.get(name, raw)) for name, raw in BINARY.headers if name not in drop]
    headers += [(name, raw) for name, raw in replaced.items() if name not in dict(BINARY.headers)]
    return key, BINARY.value, headers


STRUCTURED = encode_kafka(EVENT, Mode.STRUCTURED)
RECORDS: dict[str, Record] = {
    "no key": with_headers(key=None),
    "empty key": with_headers(key=b""),
    "key is not the card": with_headers(key=b"card-99"),
    "key not UTF-8": with_headers(key=b"\xff"),
    "key as text": with_headers(key="card-42"),
    "no time: the payload's": with_headers(drop=("ce_time",)),
    "time with an offset": with_headers(set_to={"ce_time": b"2025-03-01T13:00:00+01:00"}),
    "time lowercase": with_headers(set_to={"ce_time": b"2025-03-01t12:00:00z"}),
    "time naive": with_headers(set_to={"ce_time": b"2025-03-01T12:00:00"}),
    "time impossible": with_headers(set_to={"ce_time": b"2025-02-30T12:00:00Z"}),
    "no subject": with_headers(drop=("ce_subject",)),
    "subject is not the card": with_headers(set_to={"ce_subject": b"card-99"}),
    "subject empty": with_headers(set_to={"ce_subject": b""}),
    "no dataschema": with_headers(drop=("ce_dataschema",)),
    "wrong dataschema": with_headers(set_to={"ce_dataschema": b"https://x/y.json"}),
    "partitionkey agrees with the key": with_headers(set_to={"ce_partitionkey": b"card-42"}),
    "partitionkey differs from the key": with_headers(set_to={"ce_partitionkey": b"card-1"}),
    "tracing": with_headers(set_to={"ce_traceparent": b"00-" + b"ab" * 16 + b"-" + b"cd" * 8 + b"-01"}),
    "empty tracestate": with_headers(set_to={"ce_tracestate": b""}),
    "causationid": with_headers(set_to={"ce_causationid": b"x-1"}),
    "extensions": with_headers(set_to={"ce_region": b"eu", "ce_tenant": b"t1"}),
    "extension name uppercase": with_headers(set_to={"ce_Region": b"eu"}),
    "extension name with a dash": with_headers(set_to={"ce_re-gion": b"eu"}),
    "extension named data": with_headers(set_to={"ce_data": b"x"}),
    "header name in capitals": with_headers(drop=("ce_id",), set_to={"CE_ID": b"pay-0001"}),
    "repeated header, same value": (*with_headers()[:2], [*BINARY.headers, ("ce_id", b"pay-0001")]),
    "repeated header, other value": (*with_headers()[:2], [*BINARY.headers, ("ce_id", b"other")]),
    "unrelated header not UTF-8": with_headers(set_to={"x-trace": b"\xff"}),
    "ce header not UTF-8": with_headers(set_to={"ce_source": b"\xff"}),
    "missing specversion": with_headers(drop=("ce_specversion",)),
    "wrong specversion": with_headers(set_to={"ce_specversion": b"0.3"}),
    "missing id": with_headers(drop=("ce_id",)),
    "empty id": with_headers(set_to={"ce_id": b""}),
    "missing source": with_headers(drop=("ce_source",)),
    "missing type": with_headers(drop=("ce_type",)),
    "another type": with_headers(set_to={"ce_type": b"dev.rtinfer.label.v1"}),
    "unknown type": with_headers(set_to={"ce_type": b"dev.rtinfer.payment.authorized.v9"}),
    "no content type": with_headers(drop=("content-type",)),
    "content type with charset": with_headers(set_to={"content-type": b"application/json; charset=utf-8"}),
    "content type in capitals": with_headers(set_to={"content-type": b"Application/JSON"}),
    "content type text": with_headers(set_to={"content-type": b"text/plain"}),
    "ce_datacontenttype agrees": with_headers(set_to={"ce_datacontenttype": b"application/json"}),
    "ce_datacontenttype differs": with_headers(set_to={"ce_datacontenttype": b"text/plain"}),
    "oversized headers": with_headers(set_to={"x-padding": b"x" * 65536}),
    "oversized value": (BINARY.key, b" " * 65537, list(BINARY.headers)),
    "tombstone": (BINARY.key, None, list(BINARY.headers)),
    "value as a bytearray": (BINARY.key, bytearray(BINARY.value), list(BINARY.headers)),
    "value as text": (BINARY.key, BINARY.value.decode(), list(BINARY.headers)),
    "header value None": with_headers(set_to={"ce_subject": None}),  # type: ignore[dict-item]
    "headers None": (BINARY.key, BINARY.value, None),
    "header names as bytes": (BINARY.key, BINARY.value, [(n.encode(), r) for n, r in BINARY.headers]),
    "structured": (STRUCTURED.key, STRUCTURED.value, list(STRUCTURED.headers)),
    "structured labelled as JSON": (
        STRUCTURED.key,
        STRUCTURED.value,
        [("content-type", b"application/json")],
    ),
}


@pytest.mark.parametrize("case", RECORDS)
def test_both_decoders_give_the_same_result_for_each_record(case: str) -> None:
    judge(RECORDS[case])


def test_a_whole_batch_gives_the_results_of_its_records_in_order() -> None:
    records = [*RECORDS.values(), *PAYLOADS.values(), *(record for record, _ in SCHEMA_GAPS.values())]
    records = records + records[::-1]
    expected = [decode_kafka(*record, max_bytes=4096) for record in records]
    results = decode_kafka_batch(records, max_bytes=4096)
    assert len(results) == len(expected)
    for fast, reference in zip(results, expected, strict=True):
        assert_same(fast, reference)


def test_canonical_records_never_reach_the_reference_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = [
        "sample", "amount integer", "amount many digits", "timestamp with offset",
        "timestamp negative zero offset", "timestamp microseconds", "timestamp year 1", "whitespace around",
        "duplicate key, last wins", "escaped id",
    ]  # fmt: skip
    records = [PAYLOADS[case] for case in canonical] + [
        RECORDS[case] for case in ("no key", "no time: the payload's", "tracing", "extensions", "no subject")
    ]
    expected = [decode_kafka(*record) for record in records]
    monkeypatch.setattr(fast_decode, "decode_kafka", _must_not_be_called)
    assert decode_kafka_batch(records) == expected
    assert all(isinstance(result, Decoded) for result in expected)


def _must_not_be_called(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the fast path gave this record to decode_kafka")


# --- the struct holds the schema's constraints --------------------------------------------------


def test_the_fast_decoder_holds_the_committed_schema_constraints() -> None:
    generated = msgspec.json.schema(PaymentStruct)
    fast = generated["$defs"]["PaymentStruct"]
    assert fast["required"] == SCHEMA["required"] == FIELDS
    assert fast["additionalProperties"] is SCHEMA["additionalProperties"] is False
    patterns = {
        "payment_id": SAFE_ID_BODY,
        "card_id": SAFE_ID_BODY,
        "merchant_id": SAFE_ID_BODY,
        "merchant_category": MERCHANT_CATEGORY_BODY,
    }
    for name, committed in SCHEMA["properties"].items():
        if "$ref" in committed:
            enum_name = committed["$ref"].rsplit("/", 1)[1]
            expected, actual = SCHEMA["$defs"][enum_name], generated["$defs"][enum_name]
            assert sorted(expected["enum"]) == sorted(actual["enum"]), name
            continue
        rules = {key: value for key, value in committed.items() if key not in {"title", "description"}}
        if "pattern" in rules:
            assert rules.pop("pattern") == f"^{patterns.pop(name)}$", name
        if rules.pop("format", None) == "date-time":
            assert name == "timestamp"  # CANONICAL_TIMESTAMP_BODY, checked against RFC 3339 below
        if "enum" in rules:  # a Literal: its values say the type
            values = fast["properties"][name].pop("enum")
            assert sorted(rules.pop("enum")) == sorted(values), name
            assert rules.pop("type") == "string" and all(isinstance(value, str) for value in values)
        assert rules == fast["properties"][name], name
    assert not patterns


def test_payment_has_no_rule_the_json_schema_and_fast_decoder_do_not_see() -> None:
    # A validator, private attribute or setting added to Payment changes what it accepts, or how
    # it is built, out of sight of the schema comparison above: this snapshot makes it visible.
    rules = {
        name: [type(rule).__name__ for rule in info.metadata] for name, info in Payment.model_fields.items()
    }
    assert rules == {
        "payment_id": ["StringConstraints"],
        "card_id": ["StringConstraints"],
        "merchant_id": ["StringConstraints"],
        "amount": ["Gt", "Le", "AllowInfNan"],
        "currency": ["AfterValidator", "WithJsonSchema"],  # membership in CURRENCIES: the Literal
        "timestamp": [],
        "country": ["AfterValidator", "WithJsonSchema"],  # membership in COUNTRIES: the Literal
        "merchant_category": ["StringConstraints"],
        "channel": [],
        "card_type": [],
    }
    decorators = Payment.__pydantic_decorators__
    assert not (decorators.validators or decorators.field_validators or decorators.model_validators)
    assert not Payment.__private_attributes__
    assert Payment.model_config == {"strict": True, "extra": "forbid", "frozen": True}


def test_the_fast_path_sets_every_field_of_event() -> None:
    # A field added to Event disables the fast path (every record falls back) until it is set.
    assert tuple(field.name for field in dataclasses.fields(Event)) == fast_decode.EVENT_FIELDS


# --- properties ---------------------------------------------------------------------------------

canonical_timestamps = st.from_regex(f"{CANONICAL_TIMESTAMP_BODY}", fullmatch=True)
rfc3339_timestamps = st.from_regex(
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,12})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])",
    fullmatch=True,
)
# Near misses: RFC 3339's shape with a part out of range, an empty fraction or no offset.
broken_timestamps = st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,8})?(Z|[+-][0-9]{2}:[0-9]{2})?",
    fullmatch=True,
).filter(lambda text: not _is_date_time(text) or timestamp_gap(text))
text_values = st.text(max_size=70) | st.from_regex(r"[A-Za-z0-9_.:@ -]{0,66}\n?", fullmatch=True)
wrong_values = json_values | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | text_values


def field_values(name: str) -> st.SearchStrategy[Any]:
    """Values for one payload field: valid ones, near misses and anything JSON."""
    near: dict[str, st.SearchStrategy[Any]] = {
        "amount": st.floats(min_value=-10.0, max_value=2e6, allow_nan=False)
        | st.integers(-(2**70), 2**70)
        | st.sampled_from([0, 0.0, -0.0, 1e-300, 1_000_000, 1_000_000.01]),
        "currency": st.from_regex(r"[A-Za-z]{2,4}", fullmatch=True),
        "country": st.from_regex(r"[A-Za-z]{1,3}", fullmatch=True),
        "merchant_category": st.from_regex(r"[0-9]{3,5}\n?", fullmatch=True) | st.integers(0, 9999),
        "channel": st.sampled_from(["pos", "ecom", "atm", "moto", "POS", "web", ""]),
        "card_type": st.sampled_from(["credit", "debit", "prepaid", "Credit", "charge"]),
    }
    safe = st.from_regex(r"[A-Za-z0-9_.:@-]{1,66}", fullmatch=True)
    return near.get(name, safe) | wrong_values


@st.composite
def mutated_payloads(draw: st.DrawFn) -> bytes:
    """A valid payment's JSON with fields changed, dropped or added."""
    payload: dict[str, Any] = orjson.loads(draw(payments).model_dump_json())
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        action = draw(st.sampled_from(["change", "change", "drop"]))
        if action == "drop":
            del payload[name]
        else:
            payload[name] = draw(field_values(name))
    if draw(st.booleans()):
        payload[draw(st.text(max_size=10))] = draw(json_values)
    return dumps(payload)


@MANY
@given(value=mutated_payloads())
def test_the_three_judges_agree_on_mutated_payloads(value: bytes) -> None:
    assert_verdicts_agree(with_payload(value=value))


json_numbers = st.from_regex(
    r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
).map(str.encode)


@MANY
@given(number=json_numbers)
def test_the_three_judges_agree_on_amounts_in_any_spelling(number: bytes) -> None:
    # Equal results include equal floats: both parsers round the same digits the same way.
    assert_verdicts_agree(with_payload(value=BINARY.value.replace(b"42.5", number)))


@MANY
@given(value=json_values.map(dumps) | st.binary(max_size=64))
def test_the_three_judges_agree_on_any_bytes_and_json(value: bytes) -> None:
    assert_verdicts_agree(with_payload(value=value))


def timestamp_gap(timestamp: str) -> bool:
    """RFC 3339 but not a datetime to the contract: a leap second, year 0000 (SCHEMA_GAPS)."""
    return _is_date_time(timestamp) and (timestamp[17:19] == "60" or timestamp.startswith("0000"))


@MANY
@given(timestamp=rfc3339_timestamps | broken_timestamps | canonical_timestamps)
def test_the_three_judges_agree_on_timestamps(timestamp: str) -> None:
    record = with_payload(changed(timestamp=timestamp))
    result = judge(record)
    if timestamp_gap(timestamp):
        assert schema_verdict(record[1]) and isinstance(result, DecodeFailure)
    else:
        assert schema_verdict(record[1]) is isinstance(result, Decoded)


@MANY
@given(timestamp=canonical_timestamps)
def test_canonical_timestamps_that_exist_are_decoded_on_the_fast_path(timestamp: str) -> None:
    record = with_payload(changed(timestamp=timestamp))
    if not _is_date_time(timestamp) or timestamp_gap(timestamp):  # February 30, year 0000
        assert isinstance(judge(record), DecodeFailure)
        return
    expected = decode_kafka(*record)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_decode, "decode_kafka", _must_not_be_called)
        [fast] = decode_kafka_batch([record])
    assert isinstance(expected, Decoded)
    assert_same(fast, expected)


@st.composite
def mutated_records(draw: st.DrawFn) -> Record:
    """A valid payment event in binary mode, its headers and key changed."""
    record = encode_kafka(draw(events_of(PAYMENT_AUTHORIZED)))
    headers = list(record.headers)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["drop", "set", "add"]))
        if action == "drop" and headers:
            headers.pop(draw(st.integers(0, len(headers) - 1)))
        elif action == "set" and headers:
            index = draw(st.integers(0, len(headers) - 1))
            headers[index] = (headers[index][0], draw(header_values))
        else:
            headers.insert(draw(st.integers(0, len(headers))), (draw(header_names), draw(header_values)))
    key = draw(st.sampled_from([record.key, None, b""]) | st.binary(max_size=8))
    return key, record.value, headers


HEADER_NAMES = [
    "ce_id", "ce_subject", "ce_time", "ce_partitionkey", "ce_dataschema", "ce_specversion",
    "content-type", "ce_datacontenttype", "CE_TYPE", "ce_ext1", "ce_Ext", "ce_data", "x-other",
]  # fmt: skip
header_names = st.sampled_from(HEADER_NAMES) | st.text(max_size=10)
header_values = (
    st.sampled_from([b"", b"1.0", b"application/json", b"card-42", b"2025-03-01T12:00:00Z", b"\xff"])
    | st.binary(max_size=16)
    | st.text(max_size=16).map(str.encode)
)


@MANY
@given(record=mutated_records())
def test_both_decoders_agree_on_mutated_records(record: Record) -> None:
    judge(record)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(
        mutated_records() | mutated_payloads().map(lambda value: with_payload(value=value)), max_size=8
    )
)
def test_both_decoders_agree_on_batches(records: list[Record]) -> None:
    expected = [decode_kafka(*record) for record in records]
    for fast, reference in zip(decode_kafka_batch(records), expected, strict=True):
        assert_same(fast, reference)


def test_every_reason_of_the_corpus_is_one_decode_kafka_gives() -> None:
    # The corpus reaches the reasons a dead letter can carry at the edge, not only payload ones.
    reasons = {result.reason for result in map(judge, RECORDS.values()) if isinstance(result, DecodeFailure)}
    assert {
        ReasonCode.NOT_UTF8, ReasonCode.MISSING_ATTRIBUTE, ReasonCode.BAD_ATTRIBUTE, ReasonCode.UNKNOWN_TYPE,
        ReasonCode.HEADER_BODY_CONFLICT, ReasonCode.BAD_CONTENT_TYPE, ReasonCode.TOO_LARGE,
        ReasonCode.NULL_VALUE, ReasonCode.BAD_SPECVERSION,
    } <= reasons  # fmt: skip
