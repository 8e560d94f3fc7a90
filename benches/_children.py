"""Child processes of a benchmark (a local exchange, a server) that die with it.

A child started with :func:`spawn` is ended however the benchmark ends:

* normally or by an exception: at exit (``atexit``), SIGTERM then, after a grace period, SIGKILL;
* by SIGTERM or SIGHUP: these are turned into ``SystemExit`` in the main thread, so ``finally`` blocks and the exit
  handler run as after Ctrl-C (SIGINT, ``KeyboardInterrupt``);
* by SIGKILL or a crash, where nothing of the benchmark runs any more: the kernel sends the child ``death_signal``
  when the benchmark dies (Linux ``prctl(PR_SET_PDEATHSIG)``, set in the child before it executes its command).

Without this, a killed benchmark left its local exchange running, generating a market nobody read, and growing.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tapeflow.sim import SimConfig

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_children: list[subprocess.Popen[Any]] = []
_installed = False


def _die_with_parent(parent: int, death_signal: int) -> None:
    """Runs in the child between fork and exec: asks the kernel for ``death_signal`` when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0:
        os._exit(127)
    # The parent may have died before the request: then nobody would send the signal.
    if os.getppid() != parent:
        os._exit(0)


def stop(proc: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """Ends one child: SIGTERM, then SIGKILL if it is still there after ``grace_s``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in _children:
        _children.remove(proc)


def _stop_all() -> None:
    for proc in list(_children):
        stop(proc)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _exit_on_signal)


def spawn(cmd: list[str], *, death_signal: int = signal.SIGTERM, **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(cmd, **popen)`` for a child that ends with this process (see the module docs)."""
    if not sys.platform.startswith("linux"):
        raise SystemExit("the benchmarks' child processes need Linux (prctl PR_SET_PDEATHSIG)")
    _install()
    parent = os.getpid()
    proc = subprocess.Popen(cmd, preexec_fn=lambda: _die_with_parent(parent, death_signal), **popen)
    _children.append(proc)
    return proc


def spawn_exchange(cmd: list[str], **popen: Any) -> tuple[subprocess.Popen[str], str, str]:
    """A local exchange in a child (:func:`spawn`), once it has printed its WebSocket and REST base URLs on its first
    line of output (as :func:`serve_exchange` does): ``(process, ws_url, rest_url)``."""
    proc = spawn(cmd, stdout=subprocess.PIPE, text=True, **popen)
    assert proc.stdout is not None
    urls = proc.stdout.readline().split()
    if len(urls) != 2:
        stop(proc)
        raise SystemExit(f"the local exchange did not start (its first line: {urls!r}): {' '.join(cmd)}")
    return proc, urls[0], urls[1]


async def serve_exchange(cfg: SimConfig) -> None:
    """In the child: the local exchange of ``cfg`` until terminated, its base URLs on the first line of output."""
    from tapeflow.sim import SimExchange

    async with SimExchange(cfg) as ex:
        print(ex.ws_url, ex.rest_url, flush=True)
        await asyncio.Event().wait()
