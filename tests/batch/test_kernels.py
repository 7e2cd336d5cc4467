"""Kernels forked from a zygote, or started and warmed ahead, are as clean as a kernel launched
as a new interpreter: the same user namespace, no execution count used, no history, their own
random state; they are never handed out twice and never outlive the process behind them."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient

from funnelkit.batch import kernels, zygote

pytestmark = pytest.mark.e2e

PROBE = (
    "import json as _j, os as _o, sys as _s, matplotlib as _m, numpy as _n\n"
    "print(_j.dumps({"
    "'names': sorted(k for k in globals() if not k.startswith('_') and k not in ('In', 'Out', 'exit', 'quit')),"
    "'pandas': 'pandas' in _s.modules, 'backend': _m.get_backend(), 'cwd': _o.getcwd(),"
    "'random': _n.random.random(), 'parent': _o.getppid(),"
    "'history': len(get_ipython().history_manager.input_hist_raw),"
    "'pool': __import__('pyarrow').default_memory_pool().backend_name,"  # after 'pandas': it may import pandas
    "'huge_pages': __import__('importlib').import_module('numpy._core.multiarray')._get_madvise_hugepage(),"
    "'arenas': _o.environ.get('MALLOC_ARENA_MAX')"
    "}))"
)


def probe(km) -> dict:
    """What a kernel's first cell sees (and the cell's execution count, as ``count``)."""
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs = []
        reply = client.execute_interactive(PROBE, timeout=120, output_hook=outputs.append)
    finally:
        client.stop_channels()
    text = "".join(o["content"].get("text", "") for o in outputs if o["msg_type"] == "stream")
    return {**json.loads(text), "count": reply["content"]["execution_count"]}


@pytest.fixture
def launched(tmp_path: Path, monkeypatch):
    """A kernel launched as a new interpreter, the way Jupyter does (no zygote)."""
    monkeypatch.setattr(kernels, "FORK", False)
    km, _ = kernels.take("funnelkit", str(tmp_path), tmp_path / "kernels", tmp_path / "launched.log", ())
    monkeypatch.setattr(kernels, "FORK", True)
    yield km
    kernels.release(km)


def test_a_forked_kernel_starts_as_clean_as_a_launched_one(tmp_path: Path, launched):
    spec = ("funnelkit", str(tmp_path), tmp_path / "kernels")
    forked = []
    try:
        for name in ("one", "two"):
            km, was_warm = kernels.take(*spec, tmp_path / f"{name}.log", ("pandas",))
            assert not was_warm and km.zygote is not None
            forked.append(km)
        fresh, one, two = probe(launched), probe(forked[0]), probe(forked[1])
        for seen in (one, two):
            same = {k: v for k, v in seen.items() if k not in ("pandas", "random", "parent")}
            assert same == {k: v for k, v in fresh.items() if k not in ("pandas", "random", "parent")}
            assert seen["count"] == 1  # the probe is the first cell (history: as the launched one)
            assert seen["pandas"] and not fresh["pandas"]  # the zygote had imported it
            assert seen["parent"] == forked[0].zygote.process.pid
            assert Path(f"/proc/{forked[0].provisioner.pid}/comm").read_text().strip() == zygote.KERNEL_NAME
        assert fresh["backend"] == "module://matplotlib_inline.backend_inline"
        assert fresh["pool"] == "system"  # the kit's kernel environment (runner.KERNEL_ENV), forked ones too
        assert fresh["huge_pages"] is False and fresh["arenas"] == "1"
        assert len({fresh["random"], one["random"], two["random"]}) == 3  # each seeded afresh
        assert kernels.peak_memory_mb(forked[0]) > 10
        assert 0 < kernels.cpu_seconds(forked[0]) < 60
    finally:
        for km in forked:
            kernels.release(km)
        zygote.close()
    assert not any(Path(km.connection_file).exists() for km in forked)  # connection files removed


def test_a_warmed_kernel_starts_as_clean_as_a_launched_one(tmp_path: Path, launched):
    spec = ("funnelkit", str(tmp_path), tmp_path / "kernels")
    modules = ("pandas",)
    warm = None
    try:
        kernels.prepare(*spec, tmp_path / "spare.log", modules)
        warm, was_warm = kernels.take(*spec, tmp_path / "warm.log", modules)
        assert was_warm
        assert (tmp_path / "warm.log").exists() and not (tmp_path / "spare.log").exists()
        fresh, seen = probe(launched), probe(warm)
        assert seen["names"] == fresh["names"]  # no name left by the warm-up
        assert seen["count"] == fresh["count"] == 1  # warming used no execution count
        assert seen["history"] == fresh["history"]  # nothing of the warm-up in the history
        assert seen["pandas"] and not fresh["pandas"]
        # the spare was handed out: the next kernel is not a warmed one
        again, was_warm = kernels.take(*spec, tmp_path / "again.log", modules)
        assert not was_warm
        kernels.release(again)
    finally:
        if warm is not None:
            kernels.release(warm)
        kernels.discard()
        zygote.close()


def test_a_spare_made_for_another_run_is_not_used(tmp_path: Path):
    kernels.prepare("funnelkit", str(tmp_path), tmp_path / "a", tmp_path / "spare.log", ())
    try:
        km, was_warm = kernels.take("funnelkit", str(tmp_path), tmp_path / "b", tmp_path / "job.log", ())
        assert not was_warm
        kernels.release(km)
    finally:
        kernels.discard()
        zygote.close()
    assert not list((tmp_path / "a").glob("*.json"))


def test_forked_kernels_die_with_their_zygote(tmp_path: Path):
    km, _ = kernels.take("funnelkit", str(tmp_path), tmp_path / "kernels", tmp_path / "k.log", ())
    try:
        pid, parent = km.provisioner.pid, km.zygote.process
        assert probe(km)["parent"] == parent.pid
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while km.provisioner.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert km.provisioner.process.poll() is not None, "the kernel outlived its zygote"
        assert not Path(f"/proc/{pid}").exists()  # and was reaped, not left a zombie
    finally:
        kernels.release(km)
        zygote.close()
    # a new zygote replaces the dead one
    again, _ = kernels.take("funnelkit", str(tmp_path), tmp_path / "kernels", tmp_path / "again.log", ())
    try:
        assert again.zygote.alive() and probe(again)["count"] == 1
    finally:
        kernels.release(again)
        zygote.close()


def test_a_kernel_is_launched_when_the_zygote_cannot_fork(tmp_path: Path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("the kernel zygote has exited")

    monkeypatch.setattr(zygote.Zygote, "fork", broken)
    km, _ = kernels.take("funnelkit", str(tmp_path), tmp_path / "kernels", tmp_path / "k.log", ())
    try:
        assert km.zygote is None and probe(km)["count"] == 1
        assert "ipykernel" in Path(f"/proc/{km.provisioner.pid}/cmdline").read_text()
    finally:
        kernels.release(km)
        zygote.close()


def test_the_kernelspec_environment_is_the_zygotes_from_its_start(tmp_path: Path):
    """A library reads some settings when it is loaded (thread counts, allocators): a forked
    kernel can only have them if its zygote started with them."""
    import sys

    made = zygote.zygote([sys.executable], (), str(tmp_path), {"FUNNELKIT_PROBE": "from-the-kernelspec"})
    try:
        environ = Path(f"/proc/{made.process.pid}/environ").read_bytes().split(b"\0")
        assert b"FUNNELKIT_PROBE=from-the-kernelspec" in environ
        assert zygote.zygote([sys.executable], (), str(tmp_path), {}) is not made  # another spec, another zygote
    finally:
        zygote.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc")
def test_a_kernels_processor_seconds_are_read_past_a_name_with_spaces_and_brackets():
    from types import SimpleNamespace

    from funnelkit.batch.executors import _prctl

    prctl = _prctl()
    if prctl is None:
        pytest.skip("no prctl")
    this = SimpleNamespace(provisioner=SimpleNamespace(pid=os.getpid()))
    old = Path("/proc/self/comm").read_text().strip()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # some processor time of our own to find
        pass
    try:
        prctl(15, b"a) b (c d", 0, 0, 0)  # PR_SET_NAME: the name /proc/<pid>/stat shows in brackets
        seconds = kernels.cpu_seconds(this)
        assert abs(seconds - time.process_time()) < 0.1 and seconds >= 0.2
    finally:
        prctl(15, old.encode(), 0, 0, 0)
    assert kernels.cpu_seconds(SimpleNamespace(provisioner=SimpleNamespace(pid=None))) is None
