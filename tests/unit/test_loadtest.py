"""The load test's own logic: loopback-only targets, unique payment ids, the run verdict."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from events import Decoded, Mode, decode_kafka, encode_kafka
from loadtest.loopback import NotLoopbackError, loopback_bootstrap, loopback_url
from loadtest.payments import PaymentEvents
from loadtest.run import locust_command, parse_args, verdict
from loadtest.summary import RequestStats, read_stats
from rtinfer.datagen import GeneratorConfig, generate

pytestmark = pytest.mark.unit


def test_only_loopback_addresses_are_accepted() -> None:
    assert loopback_bootstrap("localhost:9092,127.0.0.2:19092") == "127.0.0.1:9092,127.0.0.2:19092"
    assert loopback_bootstrap("[::1]:9092") == "[::1]:9092"
    assert loopback_url("http://127.0.0.1:8090") == "http://127.0.0.1:8090"
    for bootstrap in ("kafka:9092", "10.0.0.5:9092", "example.org:9092", "127.0.0.1"):
        with pytest.raises(NotLoopbackError):
            loopback_bootstrap(bootstrap)
    for url in ("http://scoring:8090", "https://192.168.1.2/", "ftp://127.0.0.1/"):
        with pytest.raises(NotLoopbackError):
            loopback_url(url)
    with pytest.raises(SystemExit):
        parse_args(["--host", "http://10.1.2.3:8090"])


def test_each_event_has_a_fresh_id_and_decodes() -> None:
    payments = generate(GeneratorConfig(seed=3, cards=20, merchants=20, days=2)).payments
    now = datetime(2026, 6, 1, tzinfo=UTC)
    source = PaymentEvents(payments.iloc[:3], run_id="r1", clock=lambda: now)
    events = [next(source) for _ in range(7)]  # cycles through the three rows
    assert [event.id for event in events] == [f"lt-r1-{n}" for n in range(7)]
    assert {event.time for event in events} == {now}
    assert events[0].data.card_id == events[3].data.card_id == payments["card_id"].iloc[0]
    record = encode_kafka(events[0], Mode.BINARY)
    decoded = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(decoded, Decoded) and decoded.event.id == "lt-r1-0"


def test_locust_command_sizes_users_to_the_rate(tmp_path: Path) -> None:
    args = parse_args(["--users", "both", "--rate", "200", "--http-rate", "30", "--out", str(tmp_path)])
    command = locust_command(args)
    assert command[command.index("--users") + 1] == str(8 + 3)
    assert command[-2:] == ["KafkaPaymentUser", "HttpPaymentUser"]
    assert command[command.index("--html") + 1] == str(tmp_path / "report.html")


def _row(name: str, requests: int, failures: int) -> RequestStats:
    return RequestStats("kafka", name, requests, failures, 10.0, 50.0, 200.0)


def test_verdict_wants_predictions_and_few_failures() -> None:
    args = parse_args(["--users", "kafka"])
    assert verdict({"event->prediction": _row("event->prediction", 1000, 5)}, args) == []
    assert verdict({"event->prediction": _row("event->prediction", 1000, 50)}, args)
    assert verdict({"produce": _row("produce", 1000, 0)}, args) == [
        "no event->prediction requests were recorded"
    ]


def test_stats_csv_is_read(tmp_path: Path) -> None:
    stats = tmp_path / "load_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
        "99.99%,100%\n"
        "kafka,event->prediction,10,1,8,9.4,5.9,43.9,2.0,199.1,0.0,8,9,10,11,13,17,24,36,43,44,44\n"
        ",Aggregated,10,1,8,9.4,5.9,43.9,2.0,199.1,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
    )
    rows = read_stats(stats)
    assert rows["event->prediction"].p99_ms == 36.0 and rows["event->prediction"].failure_ratio == 0.1
    assert rows["Aggregated"].median_ms is None
