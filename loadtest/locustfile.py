"""Locust users for rtinfer: the Kafka event path and the HTTP push ingress.

KafkaPaymentUser produces payment CloudEvents (binary mode, key = card id) to the payments
topic and reports two request types: "produce" (until acks=all) and "event->prediction" (send
until the prediction whose ce_causationid is the payment's id is read back from the
predictions topic; none within --prediction-timeout is a failure). HttpPaymentUser POSTs
binary-mode CloudEvents to the scoring service's push ingress (--host). Only loopback
addresses are accepted.

    locust -f loadtest/locustfile.py --headless -u 10 -r 10 --run-time 60s --rate 200 KafkaPaymentUser
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, User, events, task
from locust.env import Environment
from locust.runners import MasterRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from events import Mode, encode_http, encode_kafka
from loadtest.kafka_bridge import KafkaBridge
from loadtest.loopback import loopback_bootstrap, loopback_url
from loadtest.payments import PaymentEvents, load_payments
from services.adapters.kafka.settings import KafkaSettings

DEFAULT_HOST = "http://127.0.0.1:8090"
_shared: dict[str, Any] = {}  # per locust process: the event source, the Kafka bridge


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("rtinfer")
    group.add_argument(
        "--bootstrap",
        default=os.environ.get("RTINFER_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (loopback only)",
    )
    group.add_argument("--payments-topic", default="payments")
    group.add_argument("--predictions-topic", default="predictions")
    group.add_argument(
        "--rate", type=float, default=200.0, help="target payments per second over all Kafka users"
    )
    group.add_argument(
        "--http-rate", type=float, default=50.0, help="target requests per second over all HTTP users"
    )
    group.add_argument(
        "--prediction-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for a prediction before counting a failure",
    )
    group.add_argument(
        "--payments-file",
        default="var/data/payments.parquet",
        help="payments Parquet (rtinfer data generate); generated when missing",
    )
    group.add_argument("--event-time", choices=["now", "original"], default="now")


@events.init.add_listener
def _init(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    environment.host = loopback_url(environment.host or DEFAULT_HOST)
    options.bootstrap = loopback_bootstrap(options.bootstrap)
    if isinstance(environment.runner, MasterRunner):
        return  # workers send; the master only aggregates
    payments = load_payments(Path(options.payments_file))
    _shared["events"] = PaymentEvents(payments, event_time=options.event_time)


@events.test_start.add_listener
def _start_bridge(environment: Environment, **_kwargs: Any) -> None:
    """One bridge per locust process, ready before the first Kafka user sends (HTTP-only runs skip it)."""
    if isinstance(environment.runner, MasterRunner) or "bridge" in _shared:
        return
    if not any(issubclass(user_class, KafkaPaymentUser) for user_class in environment.user_classes):
        return
    options = environment.parsed_options
    assert options is not None
    bridge = KafkaBridge(
        KafkaSettings(bootstrap=options.bootstrap),
        options.payments_topic,
        options.predictions_topic,
        timeout_s=options.prediction_timeout,
    )
    warmup = next(_shared["events"])
    bridge.start(warmup=[(warmup.id, encode_kafka(warmup, Mode.BINARY))])
    if bridge.warmup_s is None:
        print("kafka: no prediction for the warm-up payment within 30s; measuring anyway")
    else:
        print(f"kafka: warm-up payment scored in {bridge.warmup_s:.1f}s")
    _shared["bridge"] = bridge
    _shared["pump"] = gevent.spawn(_pump, environment, bridge)


def _pump(environment: Environment, bridge: KafkaBridge) -> None:
    """Turns the bridge's outcomes into locust request events, on the gevent side."""
    while True:
        _fire_all(environment, bridge)
        gevent.sleep(0.1)


def _fire_all(environment: Environment, bridge: KafkaBridge) -> None:
    while bridge.outcomes:
        outcome = bridge.outcomes.popleft()
        environment.events.request.fire(
            request_type="kafka",
            name=outcome.name,
            response_time=outcome.response_time_ms,
            response_length=outcome.response_length,
            exception=outcome.error,
            context={},
        )


@events.test_stop.add_listener
def _drain(environment: Environment, **_kwargs: Any) -> None:
    """Wait for the predictions of what was sent before the statistics are written."""
    bridge = _shared.get("bridge")
    if bridge is None:
        return
    started = time.monotonic()
    bridge.drain(bridge.timeout_s + 2.0)
    bridge.stop()
    pump = _shared.pop("pump", None)
    if pump is not None:
        pump.kill()
    _fire_all(environment, bridge)
    _shared.pop("bridge", None)
    print(f"kafka: drained in {time.monotonic() - started:.1f}s")
    if getattr(environment.parsed_options, "csv_prefix", None):
        # The CSV writer greenlet rewrites the files every CSV_STATS_INTERVAL_SEC and is not
        # asked again at exit: give it one more turn so the CSV holds the drained outcomes.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)


class _Paced:
    """Each user of a class sends its share of the class's rate, catching up after a slow task."""

    environment: Environment
    rate_option = "rate"
    _due: float | None = None

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        runner = self.environment.runner
        users = runner.user_classes_count.get(type(self).__name__, 1) if runner else 1
        interval = max(users, 1) / max(float(getattr(options, self.rate_option)), 1e-3)
        now = time.monotonic()
        # Never more than a second behind: a stall is not made up with a burst.
        self._due = max((self._due if self._due is not None else now) + interval, now - 1.0)
        return max(0.0, self._due - now)


class KafkaPaymentUser(_Paced, User):
    """Produces payments to Kafka; latency is event sent -> its prediction read back."""

    @task
    def send_payment(self) -> None:
        event = next(_shared["events"])
        _shared["bridge"].send(event.id, encode_kafka(event, Mode.BINARY))


class HttpPaymentUser(_Paced, FastHttpUser):
    """POSTs binary-mode payment CloudEvents to the push ingress; 2xx means outputs acknowledged."""

    host = DEFAULT_HOST
    rate_option = "http_rate"

    @task
    def post_payment(self) -> None:
        event = next(_shared["events"])
        headers, body = encode_http(event, Mode.BINARY)
        # geventhttpclient sends bytes as they are (the annotation says str | dict).
        with self.client.post(
            "/",
            data=body,  # type: ignore[arg-type]
            headers=headers,
            name="POST / (binary)",
            catch_response=True,
        ) as response:
            if response.status_code in (429, 503):
                response.failure(f"{response.status_code}: retry-after {response.headers.get('retry-after')}")
