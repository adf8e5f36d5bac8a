"""Payload of `dev.rtinfer.deadletter.v2`: an input that could not be processed, kept as bytes."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from events.contract import Contract, NonEmptyStr

Base64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$")]
RawHeaders = tuple[tuple[str, bytes | None], ...]
# Credentials must not outlive the request in a dead-letter topic.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})


@dataclass(frozen=True, slots=True)
class RawInput:
    """An input known only as bytes: a record that failed before decoding was tried, or the
    original read back from a letter. A None value is a Kafka null value, not an empty one."""

    value: bytes | None
    headers: RawHeaders = ()
    key: bytes | None = None

    @classmethod
    def coerce(cls, value: Any, headers: Any, key: Any) -> RawInput:
        """Whatever arrived, as bytes or None; headers as (name, bytes or None) pairs in order.

        Nothing is refused: other objects are kept as their repr. A name stays a str (bytes only
        when it came as bytes, which the Headers contract does not allow).
        """
        pairs: list[tuple[Any, bytes | None]] = []
        if isinstance(headers, Iterable) and not isinstance(headers, str | bytes):
            for pair in headers.items() if isinstance(headers, Mapping) else headers:
                name, raw = pair if isinstance(pair, tuple | list) and len(pair) == 2 else ("", pair)
                if not isinstance(name, str):
                    name = bytes(name) if isinstance(name, bytes | bytearray) else str(name)
                pairs.append((name, _as_bytes(raw)))
        return cls(_as_bytes(value), tuple(pairs), _as_bytes(key))


def _kind_required(schema: dict[str, Any]) -> None:
    # `kind` has a default for construction in Python, but the union dispatches on it.
    schema["required"] = ["kind", *schema.get("required", [])]


class KafkaOrigin(Contract):
    """Where a Kafka record was read."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    kind: Literal["kafka"] = "kafka"
    topic: NonEmptyStr
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class HttpOrigin(Contract):
    """Where an HTTP request (e.g. Knative push delivery) came from."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    kind: Literal["http"] = "http"
    path: str | None = None
    remote: str | None = None
    item: int | None = Field(default=None, ge=0, description="position of the event in a batch request")


Origin = Annotated[KafkaOrigin | HttpOrigin, Field(discriminator="kind")]


class OriginalHeader(Contract):
    """One header of the original, in its place: name and value as text when they are printable
    UTF-8, else as base64 of their bytes; no value for a null one or a redacted credential."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["name"]}, {"required": ["name_base64"]}],
            "not": {"required": ["value", "value_base64"]},
        }
    )

    name: str | None = Field(default=None, description="the name, when printable UTF-8")
    name_base64: Base64 | None = Field(default=None, description="the name's bytes, otherwise")
    value: str | None = Field(default=None, description="the value, when printable UTF-8")
    value_base64: Base64 | None = Field(default=None, description="the value's bytes, otherwise")
    redacted: bool = Field(default=False, description="a credential, dropped on purpose")

    @model_validator(mode="after")
    def _one_form_each(self) -> Self:
        if (self.name is None) == (self.name_base64 is None):
            raise ValueError("exactly one of name and name_base64")
        if self.value is not None and self.value_base64 is not None:
            raise ValueError("at most one of value and value_base64")
        if self.redacted and (self.value is not None or self.value_base64 is not None):
            raise ValueError("a redacted header has no value")
        return self

    @classmethod
    def of(cls, name: str | bytes, value: bytes | None) -> OriginalHeader:
        """The entry for one raw header; a credential (SENSITIVE_HEADERS) is redacted."""
        name_text = printable(name.encode("utf-8", "surrogatepass") if isinstance(name, str) else name)
        if name_text is None:
            named: dict[str, Any] = {"name_base64": b64(name_bytes(name))}
        elif name_text.lower() in SENSITIVE_HEADERS:
            return cls(name=name_text, redacted=True)
        else:
            named = {"name": name_text}
        if value is None:
            return cls(**named)
        text = printable(value)
        return cls(**named, value=text) if text is not None else cls(**named, value_base64=b64(value))

    def raw(self) -> tuple[str, bytes | None]:
        """The header as it was: name (str, as Kafka clients give it) and value bytes or None."""
        if self.name is not None:
            name = self.name
        else:
            encoded = base64.b64decode(self.name_base64 or "", validate=True)
            try:
                name = encoded.decode("utf-8", "surrogatepass")  # text, or one with lone surrogates
            except UnicodeDecodeError:
                name = encoded.decode("utf-8", "surrogateescape")
        if self.value is not None:
            return name, self.value.encode()
        return name, None if self.value_base64 is None else base64.b64decode(self.value_base64, validate=True)

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent forms are left out: a letter may hold thousands of headers.
        dumped: dict[str, Any] = handler(self)
        return {name: value for name, value in dumped.items() if value is not None and value is not False}


class Truncation(Contract):
    """What was cut to keep the letter under the record limit, with the original sizes."""

    value_size: int | None = Field(ge=0, description="bytes of the original value (null: no value)")
    value_kept: int = Field(ge=0, description="bytes of it in value_base64 (a prefix)")
    key_size: int | None = Field(ge=0, description="bytes of the original key (null: no key)")
    key_kept: int = Field(ge=0, description="bytes of it in key_base64 (a prefix)")
    header_count: int = Field(ge=0, description="headers of the original")
    headers_kept: int = Field(ge=0, description="headers in original_headers (the first ones)")
    headers_size: int = Field(ge=0, description="bytes of the original header names and values")


class DeadLetter(Contract):
    """The original bytes (value, key, ordered headers), where they came from and why they failed."""

    value_base64: Base64 | None = Field(
        description="the original value, base64; null when the record had none (a Kafka null value)"
    )
    key_base64: Base64 | None = Field(default=None, description="the original record key, base64")
    original_headers: tuple[OriginalHeader, ...] = Field(
        default=(), description="every original header, in order, repeats included"
    )
    truncated: bool = Field(
        default=False, description="the letter holds a cut original (see truncation); not replayable"
    )
    truncation: Truncation | None = None
    origin: Origin
    stage: NonEmptyStr = Field(description="decode, enrich, predict, explain, publish, ...")
    reason: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)] = Field(
        description="a reason code (open set: consumers must accept unknown values)"
    )
    message: Annotated[str, StringConstraints(max_length=2048)]
    field: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="attribute or payload field at fault"
    )
    first_seen: AwareDatetime
    attempts: int = Field(ge=1)
    original_type: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="CloudEvent type of the original, if known"
    )

    @model_validator(mode="after")
    def _truncation_explained(self) -> Self:
        if self.truncated != (self.truncation is not None):
            raise ValueError("truncation is given exactly when truncated is true")
        return self

    def original(self) -> RawInput:
        """The original value, key and headers, byte for byte; redacted headers are left out.

        A truncated letter gives back only what it kept. Raises ValueError (binascii.Error) when
        its base64 does not decode.
        """
        headers = tuple(header.raw() for header in self.original_headers if not header.redacted)
        return RawInput(_unb64(self.value_base64), headers, _unb64(self.key_base64))


def printable(raw: bytes) -> str | None:
    """`raw` as text when it is UTF-8 without control or invisible characters (it reads well
    and costs no JSON escapes), else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def name_bytes(name: str | bytes) -> bytes:
    """A header name's bytes (a str with lone surrogates included)."""
    return name.encode("utf-8", "surrogatepass") if isinstance(name, str) else name


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _as_bytes(raw: Any) -> bytes | None:
    if raw is None or isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogatepass")
    return repr(raw).encode("utf-8", "backslashreplace")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text, validate=True)
