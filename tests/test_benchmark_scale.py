"""The scale benchmark's own arithmetic: the targets it judges and the memory it samples."""

import subprocess
import sys
import time

from benchmarks import scale


def test_targets_judged_per_notebook(capsys):
    results = {
        ("default", "tiers"): {"seconds": 10.0, "peak_mb": 300},
        ("scale", "tiers"): {"seconds": 19.9, "peak_mb": 1000},
        ("default", "lost"): {"seconds": 10.0, "peak_mb": 300},
        ("scale", "lost"): {"seconds": 20.1, "peak_mb": 500},
    }
    assert not scale.report(results)
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("tiers") and "1.99×" in line and line.endswith("met") for line in lines)
    assert any(line.startswith("lost") and "2.01×" in line and line.endswith("MISSED") for line in lines)
    assert scale.report({k: v for k, v in results.items() if k[1] == "tiers"})


def test_peak_sampler_sees_a_child_process():
    sampler = scale._PeakSampler(interval=0.05)
    sampler.start()
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(200 * 2**20); time.sleep(1.5)"])
    child.wait()
    time.sleep(0.1)
    assert sampler.stop() >= 190 * 2**20
