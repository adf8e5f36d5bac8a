"""Kafka connection settings shared by the services (a nested, frozen settings model)."""

from __future__ import annotations

import os
import ssl
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# Every producer of ours: nothing counts as sent before all in-sync replicas have it, and
# retries never duplicate or reorder a record. Written once; see producer_kwargs().
DELIVERY_GUARANTEES: dict[str, Any] = {"acks": "all", "enable_idempotence": True}


class KafkaSettings(BaseModel):
    """How to reach the brokers. Secrets stay SecretStr and are masked when printed."""

    model_config = ConfigDict(frozen=True)

    bootstrap: str = Field(
        # The stack's shared variable is the fallback when no service-specific one is set.
        default_factory=lambda: os.environ.get("RTINFER_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        description="bootstrap servers, host:port[,host:port] (fallback RTINFER_KAFKA_BOOTSTRAP)",
    )
    client_id: str = "rtinfer"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        if "SSL" not in self.security_protocol:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Connection arguments for AIOKafkaProducer / AIOKafkaConsumer."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        if context := self.ssl_context():
            kwargs["ssl_context"] = context
        if self.sasl_mechanism:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return kwargs

    def producer_kwargs(self, **options: Any) -> dict[str, Any]:
        """AIOKafkaProducer arguments: connection, acks=all and idempotence, then `options`."""
        return {**self.aiokafka_kwargs(), **DELIVERY_GUARANTEES, **options}

    def faststream_security(self) -> Any:
        """The matching faststream security object, or None for PLAINTEXT."""
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        context = self.ssl_context()
        if not self.sasl_mechanism:
            return BaseSecurity(ssl_context=context) if context else None
        password = self.sasl_password.get_secret_value() if self.sasl_password else ""
        kinds = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
        return kinds[self.sasl_mechanism](
            username=self.sasl_username or "", password=password, ssl_context=context
        )
