"""CPU seconds per process over a time window, sampled in the background with psutil.

Phases are cut afterwards by wall-clock time (e.g. first to last output record), so
start-up work outside a phase's window is not charged to it.
"""

from __future__ import annotations

import bisect
import gc
import os
import threading
import time
from collections.abc import Mapping

import psutil

from rtinfer.stack.settings import StackSettings

STACK_SERVERS = ("kafka", "redis", "weaviate")


def stack_pids(settings: StackSettings | None = None) -> dict[str, int]:
    """The native stack's server pids from its pid files (servers not started by it are absent)."""
    run_dir = (settings or StackSettings()).stack_dir / "run"
    pids = {}
    for name in STACK_SERVERS:
        path = run_dir / f"{name}.pid"
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if psutil.pid_exists(pid):
            pids[name] = pid
    return pids


def _cpu_seconds(process: psutil.Process) -> float:
    """User + system seconds of a process and its live children (worker processes).

    Raises psutil.Error when the process itself is gone (its last sample then stands).
    """
    times = process.cpu_times()
    total = times.user + times.system
    for child in process.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue  # exited between listing and reading
        total += times.user + times.system
    return total


class CpuSampler:
    """Samples cumulative CPU seconds of named processes every `interval_s` in a thread.

    Args:
        processes: name -> pid; "bench" (this process, children not counted) is added.
    """

    def __init__(self, processes: Mapping[str, int], interval_s: float = 0.1) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in processes.items()}
        self._fixed = list(self._processes)
        self._self = psutil.Process(os.getpid())
        self._interval_s = interval_s
        self._times: list[float] = []
        self._samples: list[dict[str, float]] = []
        self._last: dict[str, float] = {}  # name -> last cumulative seconds
        self._offsets: dict[str, float] = {}  # name -> seconds of the processes it named before
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    @property
    def names(self) -> list[str]:
        """The processes sampled for the whole run (those watched for a while excluded)."""
        return ["bench", *self._fixed]

    def watch(self, name: str, pid: int) -> None:
        """Sample one more process under `name` from now on.

        A name watched again (the next phase's scoring process) continues its series: the new
        process's seconds add to what the name had, so any window's difference stays right.
        """
        with self._lock:
            self._offsets[name] = self._last.get(name, 0.0)
            self._processes[name] = psutil.Process(pid)

    def unwatch(self, name: str) -> None:
        """Stop sampling `name` (before its process exits); its series stays at the last value."""
        self._sample()
        with self._lock:
            self._processes.pop(name, None)

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def _sample(self) -> None:
        own = self._self.cpu_times()
        with self._lock:  # the thread and between() both sample; keep times sorted
            sample = dict(self._last)  # an exited or unwatched process keeps its last value
            sample["bench"] = own.user + own.system
            for name, process in self._processes.items():
                try:
                    sample[name] = self._offsets.get(name, 0.0) + _cpu_seconds(process)
                except psutil.Error:
                    continue
            self._last = sample
            self._times.append(time.time())
            self._samples.append(sample)

    def between(self, start_s: float, end_s: float) -> dict[str, float]:
        """CPU seconds per process between two wall-clock instants (linear between samples).

        Every name sampled so far is in the answer; a process watched outside the window has 0.
        """
        self._sample()
        with self._lock:
            names = list(self._last)
        return {name: self._at(name, end_s) - self._at(name, start_s) for name in names}

    def _at(self, name: str, at_s: float) -> float:
        times = self._times
        index = bisect.bisect_left(times, at_s)
        if index <= 0:
            return self._samples[0].get(name, 0.0)
        if index >= len(times):
            return self._samples[-1].get(name, 0.0)
        before, after = self._samples[index - 1].get(name, 0.0), self._samples[index].get(name, 0.0)
        span = times[index] - times[index - 1]
        weight = (at_s - times[index - 1]) / span if span > 0 else 1.0
        return before + (after - before) * weight


class GcWatch:
    """Pauses of this process's cyclic garbage collector, to tell them apart in latency tails."""

    def __init__(self) -> None:
        self._pauses: list[tuple[float, int, float]] = []  # wall-clock end, generation, ms
        self._started = 0.0

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self._pauses.append((time.time(), info["generation"], (time.perf_counter() - self._started) * 1000.0))

    def full_collections(self, start_s: float, end_s: float) -> list[float]:
        """Milliseconds of each generation-2 collection that ended within the window."""
        return [ms for ended, generation, ms in self._pauses if generation == 2 and start_s <= ended <= end_s]
