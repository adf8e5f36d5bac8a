"""A Kafka broker of the chaos suite's own, for scenarios that stop it or log in to it.

Started by the native stack from a state dir of its own on free ports, with the stack's secured
listeners on next to PLAINTEXT: SASL_PLAINTEXT and SASL_SSL, both SCRAM-SHA-512. The shared
broker other tests use is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Literal

from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from rtinfer.stack.manager import Stack
from rtinfer.stack.process import StackError
from rtinfer.stack.settings import KAFKA_SASL_MECHANISM, StackSettings
from services.adapters.kafka.settings import KafkaSettings
from tests.chaos.streams import tail
from tests.integration.kafka_helpers import topic_partitions
from tests.servers import unavailable

Listener = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"]


@dataclass(frozen=True)
class DedicatedBroker:
    """One broker this suite started and may stop and start again (same data dir)."""

    settings: StackSettings

    def _stack(self) -> Stack:
        return Stack(self.settings, only=["kafka"])

    def start(self) -> None:
        self._stack().up()

    def stop(self) -> None:
        self._stack().down()

    @property
    def plaintext(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    @property
    def password(self) -> SecretStr:
        """The SCRAM user's real password (from the state dir)."""
        return self.settings.kafka_scram_password()

    def kafka(
        self, protocol: Listener = "PLAINTEXT", *, password: str | None = None, trust_ca: bool = True
    ) -> KafkaSettings:
        """Client settings for one listener; `password` replaces the real one, `trust_ca=False`
        leaves the CA out (the system trust store then decides)."""
        host, settings = self.settings.host, self.settings
        if protocol == "PLAINTEXT":
            return KafkaSettings(bootstrap=self.plaintext)
        port = settings.kafka_sasl_port if protocol == "SASL_PLAINTEXT" else settings.kafka_sasl_ssl_port
        return KafkaSettings(
            bootstrap=f"{host}:{port}",
            security_protocol=protocol,
            sasl_mechanism=KAFKA_SASL_MECHANISM,
            sasl_username=settings.kafka_sasl_username,
            sasl_password=SecretStr(password) if password is not None else self.password,
            ssl_cafile=str(settings.kafka_ca_file) if protocol == "SASL_SSL" and trust_ca else None,
        )


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 right now (held together while chosen)."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


@contextlib.contextmanager
def dedicated_broker(state_dir: Path) -> Iterator[DedicatedBroker]:
    """A broker with secured listeners in `state_dir` (jars from the usual cache), stopped after."""
    plain, controller, sasl, sasl_ssl = free_ports(4)
    settings = StackSettings(
        state_dir=state_dir,
        kafka_port=plain,
        kafka_controller_port=controller,
        kafka_sasl_port=sasl,
        kafka_sasl_ssl_port=sasl_ssl,
        kafka_heap="512m",
    )
    broker = DedicatedBroker(settings)
    try:
        broker.start()
    except StackError as error:  # up() has stopped what it started
        unavailable("a dedicated Kafka broker", str(error))
    try:
        yield broker
    finally:
        broker.stop()


async def topic_size(bootstrap: str, topic: str) -> int:
    """Records in `topic` now: the sum of its end offsets (no transactions write to it)."""
    partitions = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def grown(bootstrap: str, topic: str, at_least: int, process: Popen[bytes], log: Path) -> int:
    """Wait until `topic` holds `at_least` records while `process` runs; returns the count
    (end offsets: cheap, and what a broker that may stop at any moment can answer)."""
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline:
        count = await topic_size(bootstrap, topic)
        if count >= at_least:
            return count
        assert process.poll() is None, f"the scoring process died: {tail(log)}"
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {count} of {at_least} records on {topic}: {tail(log)}")
