"""Why an event was rejected: the reason codes carried by failures and dead letters."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Machine-readable cause of a failure; the set is open (consumers tolerate new values)."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    BAD_JSON = "bad_json"
    NULL_VALUE = "null_value"  # a Kafka record with a null value (tombstone)
    MISSING_ATTRIBUTE = "missing_attribute"
    BAD_ATTRIBUTE = "bad_attribute"
    BAD_SPECVERSION = "bad_specversion"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_PAYLOAD = "invalid_payload"
    HEADER_BODY_CONFLICT = "header_body_conflict"
    BAD_CONTENT_TYPE = "bad_content_type"
    INTERNAL = "internal"
    UNREADABLE_RECORD = "unreadable_record"  # the Kafka client itself could not parse the record
    TIME_OUT_OF_RANGE = "time_out_of_range"  # event time too far ahead of the consumer's clock
    # Later stages (enrich, predict, explain, publish) report these.
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
    TIMEOUT = "timeout"
    RETRIES_EXHAUSTED = "retries_exhausted"
