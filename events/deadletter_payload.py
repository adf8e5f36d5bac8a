"""Payload of `dev.rtinfer.deadletter.v1`: an input that could not be processed, kept whole."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from events.contract import Contract, NonEmptyStr

_PAYLOAD_KEYS = ("payload_json", "payload_base64")


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


Origin = Annotated[KafkaOrigin | HttpOrigin, Field(discriminator="kind")]


class DeadLetter(Contract):
    """The original bytes (as JSON or base64), where they came from and why they failed."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["payload_json"]}, {"required": ["payload_base64"]}]}
    )

    payload_json: JsonValue = Field(default=None, description="the original value, when UTF-8 JSON")
    payload_base64: str | None = Field(default=None, description="the original value, otherwise")
    original_headers: dict[str, str] = Field(
        default_factory=dict, description='UTF-8 (errors replaced), or "b64:" + base64 when not UTF-8'
    )
    origin: Origin
    stage: NonEmptyStr = Field(description="decode, enrich, predict, explain, publish, ...")
    reason: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)] = Field(
        description="a reason code (open set: consumers must accept unknown values)"
    )
    message: Annotated[str, StringConstraints(max_length=2048)]
    field: str | None = Field(default=None, description="attribute or payload field at fault")
    first_seen: AwareDatetime
    attempts: int = Field(ge=1)
    original_type: str | None = Field(default=None, description="CloudEvent type of the original, if known")

    @model_validator(mode="after")
    def _exactly_one_payload(self) -> Self:
        # Presence, not value, decides: payload_json may legitimately be JSON null.
        if sum(key in self.model_fields_set for key in _PAYLOAD_KEYS) != 1:
            raise ValueError("exactly one of payload_json and payload_base64 must be given")
        return self

    @model_serializer(mode="wrap")
    def _drop_absent_payload(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        dumped.pop("payload_json" if self.payload_base64 is not None else "payload_base64", None)
        return dumped
