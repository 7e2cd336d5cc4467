"""The side-by-side benchmark's floor: the kernels' own work spread over every core."""

from __future__ import annotations

import pytest

from benchmarks.compare import kernel_floor


def test_the_floor_is_the_kernels_processor_seconds_over_the_cores():
    jobs = [{"cpu_seconds": 3.0}, {"cpu_seconds": 2.0}, {"cpu_seconds": 1.0}]
    floor = kernel_floor(jobs, naive=30.0, cores=2)
    assert floor == {"cpu": 6.0, "cores": 2, "seconds": 3.0, "ratio": pytest.approx(0.1)}


def test_no_floor_when_a_kernel_was_not_measured():
    assert kernel_floor([{"cpu_seconds": 3.0}, {"cpu_seconds": None}], naive=30.0, cores=2) is None
    assert kernel_floor([], naive=30.0) is None
