"""What the installed cloudevents SDK does with attribute values in HTTP binary mode, and what
our decoder makes of it (docs/events.md, "HTTP").

The SDK (1.x, `cloudevents.conversion.to_binary`) copies each attribute into its `ce-` header
unchanged: no percent-encoding, and `from_http` does no percent-decoding. Our `decode_http`
percent-decodes `%XX` sequences (UTF-8) and takes everything else as it is, so the SDK's
headers decode to the same values unless a value holds a literal `%XX`.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from cloudevents.conversion import to_binary as sdk_to_binary
from cloudevents.http import CloudEvent as SdkEvent
from cloudevents.http import from_http as sdk_from_http

from events import Decoded, decode_http, encode_http
from events.testing import sample_payment_event
from events.wire import format_time, payload_json

pytestmark = pytest.mark.unit

EVENT = sample_payment_event()
ODD = {
    "source": "//acquirer/Zürich east",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "tracestate": "vendor=a b,ключ=значение",
    "region": 'Île-de-France / 東京 "quoted" tab\tend',
}


def _sdk_event(**attributes: str) -> SdkEvent:
    base: dict[str, Any] = {
        "specversion": "1.0",
        "id": EVENT.id,
        "source": EVENT.source,
        "type": EVENT.type,
        "time": format_time(EVENT.time),
        "subject": EVENT.subject,
        "datacontenttype": "application/json",
    }
    return SdkEvent({**base, **attributes}, orjson.loads(payload_json(EVENT)))


def test_installed_sdk_is_the_one_documented() -> None:
    assert version("cloudevents").startswith("1.")


def test_sdk_binary_headers_carry_values_unencoded() -> None:
    headers, _ = sdk_to_binary(_sdk_event(**ODD))
    for name, value in ODD.items():
        assert headers[f"ce-{name}"] == value
    back = sdk_from_http(headers, orjson.dumps({}))
    assert back["source"] == ODD["source"]  # and read back as they are


def test_we_decode_sdk_binary_with_non_ascii_and_spaces_to_the_same_values() -> None:
    headers, body = sdk_to_binary(_sdk_event(**ODD))

    [result] = decode_http(headers, body)

    assert isinstance(result, Decoded), result
    event = result.event
    assert event.source == ODD["source"]
    assert event.traceparent == ODD["traceparent"]
    assert event.tracestate == ODD["tracestate"]
    assert event.extensions == {"region": ODD["region"]}
    assert (event.id, event.type, event.time, event.data) == (EVENT.id, EVENT.type, EVENT.time, EVENT.data)


def test_a_literal_percent_escape_from_the_sdk_is_read_as_an_escape() -> None:
    # The one difference: the SDK sends "%41" as is, the binding says it means "A".
    headers, body = sdk_to_binary(_sdk_event(source="//acquirer/100%41", region="50% off"))

    [result] = decode_http(headers, body)

    assert isinstance(result, Decoded), result
    assert result.event.source == "//acquirer/100A"
    assert result.event.extensions == {"region": "50% off"}  # "%" without two hex digits stays


def test_our_binary_headers_are_percent_encoded_and_decode_back() -> None:
    event = _decoded(ODD)
    headers, body = encode_http(event)
    for name in ("source", "tracestate", "region"):
        assert headers[f"ce-{name}"].isascii()
        assert " " not in headers[f"ce-{name}"]
        assert unquote(headers[f"ce-{name}"]) == ODD[name]
    [again] = decode_http(headers, body)
    assert isinstance(again, Decoded) and again.event == event


def _decoded(attributes: dict[str, str]) -> Any:
    [result] = decode_http(*sdk_to_binary(_sdk_event(**attributes)))
    assert isinstance(result, Decoded), result
    return result.event
