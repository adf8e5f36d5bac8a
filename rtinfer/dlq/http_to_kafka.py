"""An HTTP-origin original (Knative push delivery) as the Kafka record it stands for."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson

from events import RawInput

_BATCH = b"application/cloudevents-batch+json"
_STRUCTURED = b"application/cloudevents+json"


def http_to_kafka(original: RawInput) -> tuple[RawInput, str | None]:
    """The Kafka record for an HTTP request, or the original and why it has none.

    `ce-*` headers become `ce_*` headers, percent-decoded (the Kafka binding carries UTF-8 as
    is); `content-type` stays; other HTTP headers (host, user-agent, ...) mean nothing on Kafka
    and are dropped. A structured body stays structured, and one item of a batch becomes a
    structured record. The key is the event's `partitionkey`, when it has one.
    """
    headers: list[tuple[str, bytes | None]] = []
    partitionkey = None
    for name, value in original.headers:
        lowered = name.lower()
        if lowered.startswith("ce-"):
            raw = None if value is None else unquote_to_bytes(value)
            headers.append((f"ce_{lowered[3:]}", raw))
            partitionkey = raw if lowered == "ce-partitionkey" else partitionkey
        elif lowered == "content-type":
            is_batch = value is not None and _media_type(value) == _BATCH
            if is_batch and _envelope(original.value) is None:
                return original, "an HTTP batch body: one request of many events has no Kafka record"
            headers.append(("content-type", _STRUCTURED if is_batch else value))
    if partitionkey is None and not any(name.startswith("ce_") for name, _ in headers):
        found = (_envelope(original.value) or {}).get("partitionkey")
        partitionkey = found.encode() if isinstance(found, str) and found else None
    return RawInput(original.value, tuple(headers), original.key or partitionkey), None


def _media_type(content_type: bytes) -> bytes:
    return content_type.split(b";", 1)[0].strip().lower()


def _envelope(body: bytes | None) -> dict[str, object] | None:
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
