"""peak_rss_bytes is the job's own peak, not the worker process's lifetime high-water mark."""

from __future__ import annotations

import time

import numpy as np
import psutil
import pytest

from workers.files.memory import JobMemory

MIB = 1 << 20


@pytest.mark.parametrize("sample_only", [False, True], ids=["high-water-mark", "sampled"])
def test_each_job_reports_its_own_peak(sample_only: bool) -> None:
    with JobMemory(sample_only) as big:
        before = psutil.Process().memory_info().rss
        block = np.ones(200 * MIB // 8)  # touched: resident
        deadline = time.monotonic() + 10
        while sample_only and big.peak < before + block.nbytes and time.monotonic() < deadline:
            time.sleep(0.005)  # until the sampler has seen it (the other mode needs no wait)
        del block

    with JobMemory(sample_only) as small:
        np.ones(MIB // 8).sum()

    assert big.peak - small.peak > 150 * MIB, (big.peak / MIB, small.peak / MIB)
    assert small.peak > 0
