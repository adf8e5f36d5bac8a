"""The outbox of a monitor's state (drift monitor, comparison) as plain data and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from events import Decoded, Event, decode_kafka
from events.wire import STRUCTURED_CONTENT_TYPE, structured_json

_STRUCTURED = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


def outbox_state(outbox: Sequence[Event[Any]]) -> list[Any]:
    """Each event as its structured-mode JSON value."""
    return [orjson.loads(structured_json(event)) for event in outbox]


def outbox_from_state(saved: Sequence[Any], mismatch: type[Exception]) -> list[Event[Any]]:
    """The events of `outbox_state`; `mismatch` is raised for one that no longer decodes."""
    events = []
    for value in saved:
        decoded = decode_kafka(None, orjson.dumps(value), _STRUCTURED, max_bytes=2**24)
        if not isinstance(decoded, Decoded):
            raise mismatch(f"a saved outbox event does not decode: {decoded.message}")
        events.append(decoded.event)
    return events
