"""CloudEvents HTTP protocol binding (Knative push delivery): binary, structured, batch."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import orjson

from events.envelope import Event
from events.reasons import ReasonCode
from events.results import Decoded, DecodeFailure, Headers, Mode
from events.wire import (
    BATCH_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    WireError,
    attribute_pairs,
    event_from_attributes,
    load_json,
    looks_structured,
    media_type,
    payload_json,
    same_attribute,
    split_structured,
    structured_json,
    structured_object,
)

DEFAULT_MAX_BYTES = 65536
# str pairs as most frameworks give them, or the raw bytes pairs of an ASGI scope.
HttpHeaders = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]
# Printable ASCII except space, '"' and '%' travels as is; the rest is percent-encoded.
_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) not in '"%')


def encode_http(event: Event[Any], mode: Mode = Mode.BINARY) -> tuple[dict[str, str], bytes]:
    """Headers and body of a request or reply carrying `event`."""
    if mode is Mode.STRUCTURED:
        return {"content-type": STRUCTURED_CONTENT_TYPE}, structured_json(event)
    if mode is Mode.BATCH:
        return encode_http_batch([event])
    headers = {"content-type": event.datacontenttype}
    for name, value in attribute_pairs(event):
        headers[f"ce-{name}"] = quote(value, safe=_SAFE)
    return headers, payload_json(event)


def encode_http_batch(events: Iterable[Event[Any]]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a batch (a JSON array of structured events)."""
    body = orjson.dumps([structured_object(event) for event in events])
    return {"content-type": BATCH_CONTENT_TYPE}, body


def decode_http(
    headers: HttpHeaders,
    body: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    received_at: datetime | None = None,
) -> list[Decoded | DecodeFailure]:
    """Decode a request into one result per event (many for a batch); never raises.

    Header names are case-insensitive; `max_bytes` bounds the body and, separately,
    the headers, and is checked before anything is parsed. `time` is optional: without it
    the event time is the payload's own timestamp, else `received_at` (when the request was
    received, timezone-aware; None: the clock at decode).
    """
    attributes: dict[str, str] = {}
    raw_headers: Headers = ()
    try:
        pairs = [(_str(name).lower(), _str(value)) for name, value in _items(headers)]
        raw_headers = tuple((name, value.encode("utf-8", "replace")) for name, value in pairs)
        return _decode(pairs, body, max_bytes, attributes, raw_headers, received_at)
    except WireError as error:
        return [_failure(error, body, raw_headers, attributes)]
    except Exception as error:  # the boundary: whatever slipped through becomes data
        problem = WireError(ReasonCode.INTERNAL, f"unexpected {type(error).__name__}: {error}")
        return [_failure(problem, body, raw_headers, attributes)]


def _decode(
    pairs: list[tuple[str, str]],
    body: bytes,
    max_bytes: int,
    attributes: dict[str, str],
    raw_headers: Headers,
    received_at: datetime | None,
) -> list[Decoded | DecodeFailure]:
    if len(body) > max_bytes:
        raise WireError(ReasonCode.TOO_LARGE, f"body is {len(body)} bytes, limit {max_bytes}", "body")
    if sum(len(name) + len(value) for name, value in pairs) > max_bytes:
        raise WireError(ReasonCode.TOO_LARGE, f"headers exceed {max_bytes} bytes", "headers")
    ce_headers = _ce_headers(pairs)
    content_type = next((value for name, value in pairs if name == "content-type"), None)
    kind = media_type(content_type) if content_type is not None else None
    if kind == STRUCTURED_CONTENT_TYPE:
        return [Decoded(_structured(load_json(body), ce_headers, attributes, received_at), Mode.STRUCTURED)]
    if kind == BATCH_CONTENT_TYPE:
        return _batch(load_json(body), raw_headers, received_at)
    if kind is not None and kind.startswith("application/cloudevents"):
        raise WireError(
            ReasonCode.BAD_CONTENT_TYPE, f"unsupported content-type {content_type!r}", "content-type"
        )
    if "specversion" not in ce_headers and looks_structured(body):
        # A structured event sent with the data's content type: without ce- headers it cannot be binary.
        return [Decoded(_structured(load_json(body), ce_headers, attributes, received_at), Mode.STRUCTURED)]
    attributes.update(ce_headers)
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return [Decoded(event_from_attributes(attributes, body, _binary_name, received_at), Mode.BINARY)]


def _structured(
    envelope: Any, ce_headers: dict[str, str], attributes: dict[str, str], received_at: datetime | None
) -> Event[Any]:
    data = split_structured(envelope, attributes)
    for attribute, text in ce_headers.items():
        if not same_attribute(attribute, attributes.get(attribute), text):
            raise WireError(
                ReasonCode.HEADER_BODY_CONFLICT,
                f"header ce-{attribute} contradicts the event's {attribute}",
                f"ce-{attribute}",
            )
    return event_from_attributes(attributes, data, _structured_name, received_at)


def _batch(
    envelopes: Any, raw_headers: Headers, received_at: datetime | None
) -> list[Decoded | DecodeFailure]:
    if not isinstance(envelopes, list):
        raise WireError(ReasonCode.BAD_JSON, "a batch must be a JSON array")
    results: list[Decoded | DecodeFailure] = []
    for envelope in envelopes:
        attributes: dict[str, str] = {}
        try:
            results.append(Decoded(_structured(envelope, {}, attributes, received_at), Mode.BATCH))
        except WireError as error:
            results.append(_failure(error, _item_bytes(envelope), raw_headers, attributes))
        except Exception as error:  # one bad item must not sink the batch
            problem = WireError(ReasonCode.INTERNAL, f"unexpected {type(error).__name__}: {error}")
            results.append(_failure(problem, _item_bytes(envelope), raw_headers, attributes))
    return results


def _item_bytes(envelope: Any) -> bytes:
    """One batch item as JSON bytes for its dead letter; never raises (orjson refuses nesting
    deeper than 254 levels, the standard library goes deeper, and repr always works)."""
    try:
        return orjson.dumps(envelope)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return json.dumps(envelope, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return repr(envelope).encode("utf-8", "replace")


def _ce_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs:
        if name.startswith("ce-"):
            text = _percent_decode(value, name)
            if found.setdefault(name[3:], text) != text:
                raise WireError(ReasonCode.BAD_ATTRIBUTE, f"header {name} repeats with another value", name)
    return found


def _percent_decode(value: str, name: str) -> str:
    if "%" not in value:
        return value
    try:
        return unquote_to_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(
            ReasonCode.NOT_UTF8, f"header {name} is not UTF-8 once percent-decoded", name
        ) from None


def _items(headers: HttpHeaders) -> Iterable[tuple[str | bytes, str | bytes]]:
    return headers.items() if isinstance(headers, Mapping) else headers


def _str(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")  # producers that skip percent-encoding send UTF-8
    except UnicodeDecodeError:
        return text.decode("latin-1")  # HTTP's historical header charset


def _binary_name(attribute: str) -> str:
    return "content-type" if attribute == "datacontenttype" else f"ce-{attribute}"


def _structured_name(attribute: str) -> str:
    return attribute


def _failure(error: WireError, body: Any, raw_headers: Headers, attributes: dict[str, str]) -> DecodeFailure:
    return DecodeFailure(
        reason=error.reason,
        message=error.message,
        field=error.field,
        value=bytes(body) if isinstance(body, bytes | bytearray | memoryview) else repr(body).encode(),
        headers=raw_headers,
        event_type=attributes.get("type"),
        event_id=attributes.get("id"),
    )
