"""Restarts: a monitor rebuilt from its saved state ends in the same reports; the runner skips
records its state already holds and keeps unpublished reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from events import DRIFT_REPORT, Event, encode_kafka
from services.core.errors import DependencyUnavailable
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor, StateMismatchError
from services.monitor.runner import INVALID, SKIPPED, MonitorRunner, SourceRecord
from services.monitor.snapshot import SnapshotFile
from tests.unit.monitor.streams import T0, closing_prediction, model_reference, stream

pytestmark = pytest.mark.unit
CONFIG = MonitorConfig(window_sizes_s=(300, 900), allowed_lateness_s=30.0, performance_delay_s=300.0)


def _monitor() -> Monitor:
    return Monitor(model_reference(), CONFIG, source="//tests/monitor", clock=lambda: T0)


def _events() -> list[Event[Any]]:
    return [*stream(4, 800, seed=3, label_share=0.8), closing_prediction(4 * 300 + 900)]


def _saved_and_restored(monitor: Monitor) -> Monitor:
    state = orjson.loads(orjson.dumps(monitor.to_state()))  # through JSON, as on disk
    return Monitor.from_state(state, model_reference(), CONFIG, source="//tests/monitor", clock=lambda: T0)


def _published(outbox: Sequence[Event[Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(event.id, event.data.model_dump(mode="json")) for event in outbox]


@pytest.mark.parametrize("cut", [0.37, 0.5, 0.81])
def test_restart_mid_window_gives_the_same_reports(cut: float) -> None:
    events = _events()
    straight = _monitor()
    for event in events:
        straight.observe(event)
    split = int(len(events) * cut)
    first = _monitor()
    for event in events[:split]:
        first.observe(event)
    second = _saved_and_restored(first)
    for event in events[split:]:
        second.observe(event)
    assert len([e for e in straight.outbox if e.type == DRIFT_REPORT]) == 4 + 2  # 300 s and 900 s windows
    assert _published(second.outbox) == _published(straight.outbox)


def test_state_of_another_model_is_refused() -> None:
    state = _monitor().to_state()
    state["model"] = ["fraud", "6"]
    with pytest.raises(StateMismatchError):
        Monitor.from_state(state, model_reference(), CONFIG, source="//tests/monitor", clock=lambda: T0)


def _records(
    events: Sequence[Event[Any]], topic: str = "predictions", first_offset: int = 0
) -> list[SourceRecord]:
    records = []
    for offset, event in enumerate(events, start=first_offset):
        record = encode_kafka(event)
        records.append(SourceRecord(topic, 0, offset, record.key, record.value, record.headers))
    return records


class Sink:
    def __init__(self) -> None:
        self.published: list[Event[Any]] = []
        self.failing = False

    async def __call__(self, events: Sequence[Event[Any]]) -> None:
        if self.failing:
            raise DependencyUnavailable("kafka", "down")
        self.published.extend(events)


async def test_runner_skips_what_the_saved_state_holds_and_publishes_once(tmp_path: Path) -> None:
    events = _events()
    records = _records(events)
    sink = Sink()
    straight = MonitorRunner(_monitor(), sink)
    straight.ingest(records)
    await straight.flush()

    resumed_sink = Sink()
    runner = MonitorRunner(_monitor(), resumed_sink)
    split = len(records) // 2
    runner.ingest(records[:split])
    snapshot = SnapshotFile(tmp_path / "state" / "monitor.json")
    snapshot.save(runner.state())
    saved = snapshot.load()
    assert saved is not None
    restored = MonitorRunner(
        Monitor.from_state(
            saved["monitor"], model_reference(), CONFIG, source="//tests/monitor", clock=lambda: T0
        ),
        resumed_sink,
        offsets=saved["offsets"],
    )
    # The commit before the crash was older than the snapshot: records come again from 100.
    outcomes = restored.ingest(records[100:])
    assert outcomes[SKIPPED] == split - 100
    await restored.flush()
    assert _published(resumed_sink.published) == _published(sink.published)


async def test_unpublished_reports_stay_in_the_state_until_published() -> None:
    sink = Sink()
    sink.failing = True
    runner = MonitorRunner(_monitor(), sink)
    runner.ingest(_records(_events()))
    assert await runner.flush() == 0
    pending = len(runner.monitor.outbox)
    assert pending > 0
    state = orjson.loads(orjson.dumps(runner.state()))
    assert len(state["monitor"]["outbox"]) == pending
    restored = MonitorRunner(
        Monitor.from_state(
            state["monitor"], model_reference(), CONFIG, source="//tests/monitor", clock=lambda: T0
        ),
        sink,
    )
    sink.failing = False
    assert await restored.flush() == pending
    assert restored.monitor.outbox == []
    assert [event.id for event in sink.published] == [event.id for event in runner.monitor.outbox]


def test_undecodable_records_are_counted_and_passed() -> None:
    runner = MonitorRunner(_monitor(), Sink())
    [good] = _records(_events()[:1], first_offset=1)
    bad = SourceRecord("predictions", 0, 0, None, b"{not json", [("content-type", b"application/json")])
    outcomes = runner.ingest([bad, good])
    assert outcomes[INVALID] == 1 and outcomes["counted"] == 1
    assert runner.offsets == {"predictions:0": 2}


def test_snapshot_file_is_replaced_whole(tmp_path: Path) -> None:
    snapshot = SnapshotFile(tmp_path / "state.json")
    assert snapshot.load() is None
    snapshot.save({"offsets": {"a:0": 1}})
    snapshot.save({"offsets": {"a:0": 2}})
    assert snapshot.load() == {"offsets": {"a:0": 2}}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]
