"""Kernels forked from a process that has already imported the kit.

Importing the kit (pandas, duckdb, matplotlib, seaborn, scipy) and ipykernel costs seconds of
processor time, the same seconds in every kernel. A worker therefore starts one *zygote*: a
plain Python process that imports those modules once and then only waits. Each notebook's
kernel is a fork of it: the child starts ipykernel's application from scratch, so its user
namespace, history, execution count, sockets and threads are those of a new kernel; only the
imported modules are already in memory (copy-on-write, shared with the zygote).

The zygote never runs user code and never starts a kernel itself, so a kernel forked from it
has never seen another notebook. It is single-threaded when it forks (a fork copies only the
calling thread), and the child seeds numpy's global random generator afresh, as a new process
would be seeded.

Protocol (one JSON object per line): the worker writes ``{"argv", "env", "cwd", "log",
"nice"}`` to the zygote's stdin and reads back ``{"pid": …}`` or ``{"error": …}``. The zygote
exits when its stdin closes (the worker ended) and, on Linux, when the worker dies (a death
signal); each kernel likewise dies with the zygote. Kernels are not the worker's children, so
:class:`Forked` stands in for the ``Popen`` object ``jupyter_client`` expects, and the zygote
reaps its children at once (``SIGCHLD`` ignored).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

#: The names a zygote and its kernels show in ``ps -o comm`` and ``/proc/<pid>/comm`` (a
#: fork keeps the zygote's command line, so this is how a forked kernel is told apart).
ZYGOTE_NAME = "funnelkit-zygot"
KERNEL_NAME = "funnelkit-kernl"
PR_SET_NAME = 15  # from <linux/prctl.h>


class Forked:
    """A kernel forked by the zygote, with the part of :class:`subprocess.Popen` that
    ``jupyter_client``'s local provisioner uses (``pid``, ``poll``, ``wait``, signals)."""

    stdin = stdout = stderr = None
    returncode: int | None = None

    def __init__(self, pid: int):
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:  # ended and reaped by the zygote (exit code unknown)
                self.returncode = 0
            except PermissionError:  # the pid was reused by someone else's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The worker's handle on its zygote process (started on first use by :func:`zygote`)."""

    def __init__(self, interpreter: list[str], modules: tuple[str, ...], cwd: str, env: dict | None = None):
        from .executors import _prctl, die_with_parent

        parent = os.getpid()
        options = {"preexec_fn": lambda: die_with_parent(parent)} if _prctl() is not None else {}
        # The kernelspec's environment from the start: what a library reads when it is
        # imported or loaded (thread counts, allocator settings) must be set in the zygote.
        env = dict(env or {})
        self.spec = (tuple(interpreter), modules, cwd, tuple(sorted(env.items())))
        self.process = subprocess.Popen(
            [*interpreter, "-m", "funnelkit.batch.zygote", *modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **env},
            text=True,
            **options,
        )
        self._lock = threading.Lock()

    def fork(self, argv: list[str], *, env: dict, cwd: str, log: str, nice: int = 0) -> Forked:
        """A new kernel running ``ipykernel`` with ``argv`` (its command line after the
        interpreter and ``-m ipykernel_launcher``), its output appended to ``log``."""
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd, "log": log, "nice": nice})
        with self._lock:
            if self.process.poll() is not None:
                raise RuntimeError("the kernel zygote has exited")
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the kernel zygote has exited")
        reply = json.loads(answer)
        if "error" in reply:
            raise RuntimeError(f"the kernel zygote could not fork: {reply['error']}")
        return Forked(reply["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote(interpreter: list[str], modules: tuple[str, ...], cwd: str, env: dict | None = None) -> Zygote | None:
    """This worker's zygote: ``interpreter`` (the kernelspec's command before ``-m
    ipykernel_launcher``) having imported ``modules``, started in ``cwd`` with the
    kernelspec's ``env`` added to this process's environment — started, or
    restarted for another spec or after it died; None where processes cannot fork. Call
    from the worker's main thread: Linux ties the death signal to the thread that started
    the process."""
    global _zygote
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return None
    with _zygote_lock:
        spec = (tuple(interpreter), modules, cwd, tuple(sorted((env or {}).items())))
        if _zygote is not None and (_zygote.spec != spec or not _zygote.alive()):
            _zygote.close()
            _zygote = None
        if _zygote is None:
            _zygote = Zygote(interpreter, modules, cwd, env)
            _close_at_exit()
        return _zygote


def close() -> None:
    """Stop this worker's zygote (its kernels die with it)."""
    global _zygote
    with _zygote_lock:
        made, _zygote = _zygote, None
    if made is not None:
        made.close()


@functools.cache
def _close_at_exit() -> None:
    """Stop the zygote when the worker process exits normally (after its spare kernel)."""
    from multiprocessing import util

    util.Finalize(None, close, exitpriority=5)


# -- in the zygote ---------------------------------------------------------------------------


def _child(request: dict, zygote_pid: int) -> None:
    """In the forked child: become a new kernel (never returns)."""
    code = 1
    try:
        from .executors import die_with_parent

        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # its own process group, as jupyter_client gives a kernel it launches
        die_with_parent(zygote_pid)
        _name(KERNEL_NAME)
        if request.get("nice"):
            os.nice(request["nice"])
        fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(zygote_pid)  # ipykernel's own parent watch
        os.chdir(request["cwd"])
        if "numpy" in sys.modules:  # a new process seeds the global generator afresh
            sys.modules["numpy"].random.seed()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        # The trait's default read JPY_PARENT_PID when the zygote imported ipykernel: give
        # the kernel its real parent, as a launched kernel reads it from its environment.
        IPKernelApp.launch_instance(argv=request["argv"], parent_handle=zygote_pid)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _name(name: str) -> None:
    """This process's name (Linux; elsewhere nothing happens)."""
    from .executors import _prctl

    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def main(modules: list[str]) -> None:
    """The zygote: import ``modules`` and ipykernel, then fork a kernel per request."""
    # What a kernel's environment says before the kit is imported: matplotlib reads its
    # backend from MPLBACKEND when it is imported (ipykernel sets it at start-up).
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides what Ctrl-C means
    _name(ZYGOTE_NAME)
    # the kernel itself: IPython, zmq, tornado
    import ipykernel.ipkernel
    import ipykernel.kernelapp  # noqa: F401

    for name in modules:
        with contextlib.suppress(Exception):  # a module that fails is the notebook's to report
            importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
    me = os.getpid()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as error:
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
            continue
        if pid == 0:
            _child(request, me)
        print(json.dumps({"pid": pid}), flush=True)
    # The worker closed the pipe: leave without tearing down the kit's modules one by one
    # (half a second that the batch would wait for); nothing is left to write or close.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
