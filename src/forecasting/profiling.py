"""Measuring a block of code's peak memory (for benchmarks)."""

from __future__ import annotations

import os
import threading

__all__ = ["PeakMemory"]


class PeakMemory:
    """Peak resident memory (MiB) above the level at entry, sampled every 50 ms.

    Resident memory catches native allocations (LightGBM, TensorFlow, NumPy) that
    Python's ``tracemalloc`` misses. Use as a context manager; read ``peak_mb`` after.
    """

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._base = 0
        self.peak_mb = 0.0

    def _sample(self) -> None:
        self.peak_mb = max(self.peak_mb, (self._process.memory_info().rss - self._base) / 2**20)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self._base = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
