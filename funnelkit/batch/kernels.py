"""Kernels for notebook jobs: each one used for exactly one notebook, forked from a zygote
that has imported the kit, the next one started and warmed while the current notebook runs.

Starting a kernel and importing the kit (pandas, matplotlib, seaborn, scipy, duckdb) costs
seconds of processor time per notebook. Two things take that cost away:

- Where the kernelspec runs ipykernel (the kit's own kernel), a kernel is forked from the
  worker's zygote (:mod:`funnelkit.batch.zygote`), a process that imported the kit once; the
  fork starts ipykernel from scratch. Other kernelspecs are launched as new interpreters.
- A worker keeps one *spare* kernel: started in the main thread (so it dies with the worker,
  see :class:`~funnelkit.batch.executors.KernelDiesWithWorker`) and warmed in a background
  thread by importing the kit's modules silently — no user code, nothing in the user
  namespace, no history, no execution count. The next notebook takes it.

A kernel is never given a second notebook, so every notebook still starts from a clean user
namespace.

The peak resident memory of a kernel is read from Linux's ``VmHWM`` just before the
kernel is shut down (``None`` elsewhere).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from jupyter_core.utils import run_sync

from .executors import KernelDiesWithWorker

FORK = True  # kernels forked from a zygote that imported the kit (Linux); False: new interpreters
WARM_TIMEOUT = 120  # seconds for a spare kernel to start and import the kit
SPARE_NICE = 10  # a spare kernel warms up at a lower priority than the running notebooks


class _Kernel(KernelDiesWithWorker):
    """A kernel manager that forks its kernel from the worker's zygote when it has one
    (:mod:`funnelkit.batch.zygote`: the kit's modules already imported), and remembers its
    clients, so that whoever started the kernel can close the clients nbclient opened on it
    (nbclient leaves them open when it does not own the manager)."""

    zygote = None  # the worker's Zygote to fork from; None: launch a new interpreter
    log_path = ""  # where a forked kernel's output goes
    nice = 0  # steps below the worker's priority a forked kernel starts at

    def client(self, **kwargs):
        made = super().client(**kwargs)
        self.__dict__.setdefault("_made_clients", []).append(made)
        return made

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if self.zygote is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        argv = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1 :]
        process = self.zygote.fork(argv, env=kw["env"], cwd=str(kw["cwd"]), log=self.log_path, nice=self.nice)
        provisioner = self.provisioner
        provisioner.process, provisioner.pid, provisioner.pgid = process, process.pid, process.pid
        provisioner.cwd = kw["cwd"]
        self._reconcile_connection_info(provisioner.connection_info)


@dataclass
class Spare:
    """A started kernel and the future of its warm-up; ``spec`` is what it was made for."""

    km: _Kernel
    spec: tuple
    log: Path
    warmed: Future


_spare: Spare | None = None
_lock = threading.Lock()  # jobs may run in threads of one process (other executors)


def _interpreter(km: _Kernel) -> list[str] | None:
    """The interpreter and its options that the kernelspec runs ipykernel with (everything
    before ``-m ipykernel_launcher``), or None for a kernel that is not ipykernel launched
    that way: only such a kernel can be forked from a zygote running the same command."""
    argv = km.kernel_spec.argv
    for i in range(len(argv) - 1):
        if argv[i : i + 2] == ["-m", "ipykernel_launcher"]:
            return argv[:i] or None
    return None


def _start(
    kernel_name: str, cwd: str, folder: Path, log: Path, *, nice: int = 0, modules: tuple[str, ...] = ()
) -> _Kernel:
    """Start a kernel (not yet ready) whose connection file is in ``folder`` and whose
    output goes to ``log``, ``nice`` steps below this process's priority: forked from the
    worker's zygote that imported ``modules`` where it can, else a new interpreter. Must run
    in the worker's main thread: Linux kills a child on the death of the *thread* that
    started it."""
    from traitlets.config import Config

    from . import zygote

    folder.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    config = Config({"KernelManager": {"connection_file": str(folder / f"kernel-{uuid.uuid4().hex}.json")}})
    km = _Kernel(kernel_name=kernel_name, config=config)
    interpreter = _interpreter(km) if FORK else None
    km.zygote = zygote.zygote(interpreter, modules, cwd, km.kernel_spec.env) if interpreter else None
    if km.zygote is not None:
        km.log_path, km.nice = str(log), nice
        try:
            run_sync(km.start_kernel)(cwd=cwd)
            return km
        except RuntimeError:  # the zygote died (or never got going): launch the kernel instead
            with contextlib.suppress(Exception):
                run_sync(km.cleanup_resources)()
            km = _Kernel(kernel_name=kernel_name, config=config)
    with open(log, "ab") as output:
        options = {"preexec_fn": functools.partial(_lower_priority, nice)} if nice and hasattr(os, "nice") else {}
        run_sync(km.start_kernel)(cwd=cwd, stdout=output, stderr=output, **options)
    return km


def _lower_priority(steps: int) -> None:
    """In a spare kernel before it starts: run behind the notebooks that are running, so
    warming up uses the processor only when they leave it idle."""
    os.nice(steps)


def _restore_priority(km: _Kernel) -> None:
    """Give a spare kernel this process's priority back (every thread: Linux keeps the
    nice value per thread). Without the right to raise a priority it stays lower."""
    pid = getattr(km.provisioner, "pid", None)
    if pid is None or not hasattr(os, "setpriority"):
        return
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    tasks = Path(f"/proc/{pid}/task")
    for task in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, task, mine)


def _warm(km: _Kernel, modules: tuple[str, ...]) -> None:
    """Wait for the kernel and import ``modules`` in it silently: no history, no output, no
    name bound in the user namespace. A module that fails to import is left for the
    notebook to report."""
    from jupyter_client.blocking import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=WARM_TIMEOUT)
        if modules:
            code = (
                f"for __funnelkit_module in {modules!r}:\n"
                "    try:\n"
                "        __import__('importlib').import_module(__funnelkit_module)\n"
                "    except Exception:\n"
                "        pass\n"
                "del __funnelkit_module\n"
            )
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            while True:
                reply = client.get_shell_msg(timeout=WARM_TIMEOUT)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
    finally:
        client.stop_channels()


def prepare(kernel_name: str, cwd: str, folder: Path, log: Path, modules: tuple[str, ...]) -> None:
    """Start the spare kernel for the next notebook and warm it in the background."""
    global _spare
    discard()
    km = _start(kernel_name, cwd, folder, log, nice=SPARE_NICE, modules=modules)
    warmed: Future = Future()

    def warm() -> None:
        try:
            _warm(km, modules)
        except BaseException as error:  # reported to whoever takes the kernel
            warmed.set_exception(error)
        else:
            warmed.set_result(None)

    # A daemon thread: a warm-up stuck on a kernel that was killed must not hold up the
    # worker's exit. The kernel itself is shut down when the worker exits normally.
    threading.Thread(target=warm, name="funnelkit-warm", daemon=True).start()
    _spare = Spare(km, (kernel_name, cwd, str(folder), modules), log, warmed)
    _shut_down_at_exit()


def take(kernel_name: str, cwd: str, folder: Path, log: Path, modules: tuple[str, ...]) -> tuple[_Kernel, bool]:
    """A started kernel for one notebook, and whether it was a warmed spare. The caller
    owns it and must :func:`release` it. A spare made for another project, kernel or run,
    or one that failed to warm, is shut down and a fresh kernel started instead."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is not None and spare.spec == (kernel_name, cwd, str(folder), modules):
        try:
            spare.warmed.result(timeout=WARM_TIMEOUT)
            if run_sync(spare.km.is_alive)():
                with contextlib.suppress(OSError):  # the job's log is the kernel's own from now on
                    os.replace(spare.log, log)
                _restore_priority(spare.km)
                return spare.km, True
        except Exception:  # not ready in time, or died warming: a fresh kernel instead
            pass
    if spare is not None:
        release(spare.km)
        spare.log.unlink(missing_ok=True)
    return _start(kernel_name, cwd, folder, log, modules=modules), False


def _proc(km: _Kernel, name: str) -> str | None:
    """The text of the kernel process's ``/proc/<pid>/<name>`` (Linux), if it can be read."""
    pid = getattr(km.provisioner, "pid", None)
    if pid is None:
        return None
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return None


def peak_memory_mb(km: _Kernel) -> float | None:
    """The kernel process's peak resident memory in MB (Linux ``VmHWM``), if known."""
    for line in (_proc(km, "status") or "").splitlines():
        if line.startswith("VmHWM:"):
            with contextlib.suppress(ValueError, IndexError):
                return int(line.split()[1]) / 1024
    return None


def cpu_seconds(km: _Kernel) -> float | None:
    """The processor seconds (user and system) the kernel process has used so far, if known:
    the notebook's own work, which no way of driving it can take away."""
    stat = _proc(km, "stat")
    if not stat:
        return None
    # after the command name, which may hold spaces: state is field 3, utime 14, stime 15
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (ValueError, IndexError):
        return None


def release(km: _Kernel) -> None:
    """Shut a kernel down at once (it ran its one notebook) and close its clients."""
    for client in km.__dict__.pop("_made_clients", []):
        with contextlib.suppress(Exception):
            client.stop_channels()
    try:  # also removes the connection file
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
        else:
            run_sync(km.cleanup_resources)()
    except Exception:
        pass


def discard() -> None:
    """Shut down the spare kernel, if any (a worker's last job, or a run that changed)."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is not None:
        release(spare.km)
        spare.log.unlink(missing_ok=True)  # it never ran a notebook: nothing to keep


@functools.cache
def _shut_down_at_exit() -> None:
    """Shut the spare kernel down when the worker process exits normally (were it killed,
    Linux kills the kernel with it)."""
    from multiprocessing import util

    util.Finalize(None, discard, exitpriority=10)
