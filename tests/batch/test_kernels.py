"""A kernel started and warmed ahead is as clean as a fresh one: the same user namespace,
no execution count used, no history; and it is never handed out twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient

from funnelkit.batch import kernels

pytestmark = pytest.mark.e2e

PROBE = "sorted(k for k in globals() if not k.startswith('_') and k not in ('In', 'Out', 'exit', 'quit'))"


def probe(km) -> tuple[list, int, bool]:
    """(user names, the probe's execution count, whether pandas is already imported)."""
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs = []
        reply = client.execute_interactive(
            f"import sys; print({PROBE}, 'pandas' in sys.modules)", timeout=120, output_hook=outputs.append
        )
    finally:
        client.stop_channels()
    text = "".join(o["content"].get("text", "") for o in outputs if o["msg_type"] == "stream")
    names, imported = text.rsplit(" ", 1)
    return names, reply["content"]["execution_count"], imported.strip() == "True"


def test_a_warmed_kernel_starts_as_clean_as_a_fresh_one(tmp_path: Path):
    folder, cwd = tmp_path / "kernels", str(tmp_path)
    spec = ("funnelkit", cwd, folder)
    modules = ("pandas",)
    fresh, warm = None, None
    try:
        fresh, was_warm = kernels.take(*spec, tmp_path / "fresh.log", modules)
        assert not was_warm
        kernels.prepare(*spec, tmp_path / "spare.log", modules)
        warm, was_warm = kernels.take(*spec, tmp_path / "warm.log", modules)
        assert was_warm and warm is not fresh
        assert (tmp_path / "warm.log").exists() and not (tmp_path / "spare.log").exists()
        fresh_names, fresh_count, fresh_pandas = probe(fresh)
        warm_names, warm_count, warm_pandas = probe(warm)
        assert warm_names == fresh_names  # no name left by the warm-up
        assert warm_count == fresh_count == 1  # warming used no execution count
        assert warm_pandas and not fresh_pandas  # the warm-up did import
        assert kernels.peak_memory_mb(warm) > kernels.peak_memory_mb(fresh) > 10
        # the spare was handed out: the next kernel is a fresh one
        again, was_warm = kernels.take(*spec, tmp_path / "again.log", modules)
        assert not was_warm
        kernels.release(again)
    finally:
        for km in (fresh, warm):
            if km is not None:
                kernels.release(km)
        kernels.discard()
    assert not list(folder.glob("*.json"))  # connection files removed


def test_a_spare_made_for_another_run_is_not_used(tmp_path: Path):
    kernels.prepare("funnelkit", str(tmp_path), tmp_path / "a", tmp_path / "spare.log", ())
    try:
        km, was_warm = kernels.take("funnelkit", str(tmp_path), tmp_path / "b", tmp_path / "job.log", ())
        assert not was_warm
        kernels.release(km)
    finally:
        kernels.discard()
    assert not list((tmp_path / "a").glob("*.json"))
