"""A coverage-guided fuzz target (atheris/libFuzzer) for the edge: the Kafka and HTTP decoders
and the dead-letter builder must never raise, and a dead letter must always fit its limit.

    python -m tests.fuzz.decoders -max_total_time=60 [CORPUS_DIR]

`make fuzz` runs it for FUZZ_TIME seconds; the chaos suite runs it for 60 s (T10).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import atheris

with atheris.instrument_imports(include=["events"]):
    from events import (
        Decoded,
        HttpOrigin,
        KafkaOrigin,
        dead_letter_event,
        decode_http,
        decode_kafka,
        encode_kafka,
    )
    from events.deadletter import kafka_record_size

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LETTER_LIMIT = 900 * 1024


def _headers(data: atheris.FuzzedDataProvider, names: list[str]) -> list[tuple[str, bytes]]:
    headers = []
    for _ in range(data.ConsumeIntInRange(0, 10)):
        name = (
            names[data.ConsumeIntInRange(0, len(names) - 1)]
            if data.ConsumeBool()
            else data.ConsumeUnicode(12)
        )
        headers.append((name, data.ConsumeBytes(data.ConsumeIntInRange(0, 300))))
    return headers


KAFKA_NAMES = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"]
HTTP_NAMES = ["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "content-type", "content-length"]


def one_input(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    if data.ConsumeBool():
        key = data.ConsumeBytes(data.ConsumeIntInRange(0, 40)) if data.ConsumeBool() else None
        headers = _headers(data, KAFKA_NAMES)
        value = data.ConsumeBytes(data.ConsumeIntInRange(0, 70_000)) if data.ConsumeBool() else None
        result = decode_kafka(key, value, headers, max_bytes=65536)
        origin: KafkaOrigin | HttpOrigin = KafkaOrigin(topic="payments", partition=0, offset=1)
        failures = [] if isinstance(result, Decoded) else [result]
    else:
        headers = _headers(data, HTTP_NAMES)
        body = data.ConsumeBytes(data.ConsumeIntInRange(0, 70_000))
        results = decode_http(headers, body, max_bytes=65536)
        origin = HttpOrigin(path="/", item=0)
        failures = [r for r in results if not isinstance(r, Decoded)]
    for failure in failures:
        letter = dead_letter_event(failure, origin=origin, stage="decode", first_seen=NOW, source="//fuzz")
        size = kafka_record_size(encode_kafka(letter))
        if size > LETTER_LIMIT:
            raise AssertionError(f"a dead letter of {size} bytes, over {LETTER_LIMIT}")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
