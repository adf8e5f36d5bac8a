"""More than one core: --processes parsing, the topics' partitions, the scaling table, CPU series."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from benchmarks import cpu
from benchmarks.cpu import CpuSampler
from benchmarks.phases import PhaseResult
from benchmarks.pipeline import add_arguments
from benchmarks.pipeline_report import baseline, cpu_columns, scaling_cells
from benchmarks.processes import group_settled
from benchmarks.scaling import process_counts, scaling_rows, topic_partitions
from services.adapters.settings_help import settings_env
from services.scoring.settings import ScoringSettings, Topics

pytestmark = pytest.mark.unit


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_processes_default_to_one_in_process() -> None:
    assert _parse().processes == [1]


def test_processes_parse_a_list_sorted_without_repeats() -> None:
    assert _parse("--processes", "4,1,2,2").processes == [1, 2, 4]
    assert _parse("--processes", "2").processes == [2]


@pytest.mark.parametrize("text", ["0", "1,-2", "two", ",", ""])
def test_processes_refuse_what_is_not_a_count(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        process_counts(text)


def test_processes_error_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("--processes", "0")

    assert "--processes" in capsys.readouterr().err


def test_plot_path_and_replot_options() -> None:
    args = _parse("--plot", "out/p.png", "--replot", "old.json")

    assert args.plot == Path("out/p.png")
    assert args.replot == Path("old.json")


@pytest.mark.parametrize(
    ("counts", "partitions"),
    [([1], 3), ([1, 2], 4), ([2], 4), ([1, 2, 3], 6), ([1, 2, 4], 4), ([3], 3), ([1, 5, 7], 7), ([16], 16)],
)
def test_partitions_are_at_least_three_and_an_even_share_when_small(
    counts: list[int], partitions: int
) -> None:
    assert topic_partitions(counts) == partitions


def test_requested_partitions_win_unless_a_process_would_idle() -> None:
    assert topic_partitions([1, 2], 8) == 8
    with pytest.raises(ValueError, match="idle"):
        topic_partitions([1, 4], 3)


def _backlog(variant: str, processes: int | None, rate: float, cpu_s: dict[str, float]) -> PhaseResult:
    events = 1000
    return PhaseResult(variant, "backlog", events, events, rate, events / rate, cpu_s, processes=processes)


def test_scaling_rows_compare_each_count_with_the_fewest_processes() -> None:
    results = [
        _backlog("echo", None, 20_000.0, {"bench": 0.1}),
        _backlog("rtinfer", 1, 1_000.0, {"bench": 0.2, "scoring1": 1.0, "kafka": 0.1}),
        _backlog("rtinfer", 2, 1_500.0, {"bench": 0.2, "scoring1": 0.6, "scoring2": 0.5, "kafka": 0.1}),
    ]

    rows = scaling_rows(results)

    assert [(row.label, row.processes) for row in rows] == [
        ("rtinfer, 1 process", 1),
        ("rtinfer, 2 processes", 2),
    ]
    one, two = rows
    assert one.speedup == 1.0
    assert two.speedup == pytest.approx(1.5)
    assert two.efficiency == pytest.approx(0.75)
    assert two.per_process_ms == pytest.approx((0.6, 0.5))  # CPU s * 1000 / 1000 events
    assert two.scoring_ms == pytest.approx(1.1)
    assert two.all_ms == pytest.approx(1.4)
    assert two.scoring_cores == pytest.approx(1.1 / (1000 / 1500))
    assert scaling_cells(two)[:6] == ["rtinfer, 2 processes", "2", "1,500", "1.50×", "75%", "0.60 + 0.50"]


def test_no_scaling_rows_for_variants_in_this_process() -> None:
    assert scaling_rows([_backlog("rtinfer", None, 900.0, {"bench": 1.0})]) == []


def test_scoring_cpu_sums_the_numbered_processes_only() -> None:
    result = _backlog("rtinfer", 2, 1_000.0, {"scoring1": 1.0, "scoring2": 2.0, "scoring12x": 5.0})

    assert result.cpu_ms_per_event("scoring") == pytest.approx(3.0)
    assert result.cpu_ms_per_event("scoring1") == pytest.approx(1.0)


def test_cpu_columns_add_scoring_after_bench_when_processes_ran() -> None:
    in_process = _backlog("rtinfer", None, 900.0, {"bench": 1.0})
    as_processes = _backlog("rtinfer", 2, 900.0, {"bench": 0.1, "scoring1": 1.0})

    assert cpu_columns([in_process], ["bench", "kafka"]) == ["bench", "kafka"]
    assert cpu_columns([in_process, as_processes], ["bench", "kafka"]) == ["bench", "scoring", "kafka"]


def test_the_baseline_is_in_process_else_the_fewest_processes() -> None:
    two = _backlog("rtinfer", 2, 1.0, {})
    one = _backlog("rtinfer", 1, 1.0, {})
    here = _backlog("rtinfer", None, 1.0, {})

    assert baseline([two, one], "rtinfer") is one
    assert baseline([two, one, here], "rtinfer") is here
    assert baseline([two], "naive") is None


def test_settings_env_rebuilds_the_same_settings_in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ScoringSettings(
        topics=Topics(payments="b1-payments", predictions="b1-predictions"),
        group_id="b1-scoring",
        model_dir=Path("/models/fraud"),
        max_records=64,
        http_port=18123,
        max_age_s={"card_*": 60.0},
        segment_fields=("country",),
    )
    for name in [name for name in os.environ if name.startswith("RTINFER_")]:
        monkeypatch.delenv(name)
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)

    assert ScoringSettings() == settings


def test_a_group_is_settled_when_stable_with_every_member() -> None:
    members = [{"member_id": "a"}, {"member_id": "b"}]

    assert group_settled({"state": "Stable", "members": members}, 2)
    assert not group_settled({"state": "PreparingRebalance", "members": members}, 2)
    assert not group_settled({"state": "Stable", "members": members[:1]}, 2)


def test_a_name_watched_again_continues_its_cpu_series(monkeypatch: pytest.MonkeyPatch) -> None:
    reading = {"seconds": 1.0}
    monkeypatch.setattr(cpu, "_cpu_seconds", lambda _process: reading["seconds"])
    sampler = CpuSampler({})
    sampler.watch("scoring1", os.getpid())
    sampler.between(0.0, 0.0)  # first sample: 1.0
    reading["seconds"] = 3.0
    sampler.unwatch("scoring1")  # last sample of the first process: 3.0
    reading["seconds"] = 0.5  # the next phase's process starts from nothing
    sampler.watch("scoring1", os.getpid())

    used = sampler.between(0.0, 1e12)

    assert used["scoring1"] == pytest.approx(3.0 + 0.5 - 1.0)
    assert sampler.names == ["bench"]  # watched processes are not run-wide columns
