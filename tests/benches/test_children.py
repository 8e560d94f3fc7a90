"""The benchmarks' child processes (``benches/_children.py``) end with the benchmark, however it ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHES = Path(__file__).resolve().parents[2] / "benches"

# A benchmark in miniature: one child that would run for two minutes, then a wait of its own. Its argument is the
# signal the kernel sends the child when the parent dies (0: none, so that only the parent's own handlers act).
PARENT = f"""
import sys, time
sys.path.insert(0, {str(BENCHES)!r})
from _children import spawn
child = spawn([sys.executable, "-c", "import time; time.sleep(120)"], death_signal=int(sys.argv[1]))
print(child.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    """No such process, or only its exit status left (a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the children die with their parent on Linux")
@pytest.mark.parametrize(
    ("sig", "death_signal"),
    [
        # The parent ends its child itself (exit handler), and the kernel would too.
        *((s, signal.SIGTERM) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)),
        # The parent alone: SIGTERM and SIGHUP become an ordinary exit, Ctrl-C already is one.
        *((s, 0) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)),
        # Nothing of the parent runs: the kernel alone.
        (signal.SIGKILL, signal.SIGTERM),
    ],
    ids=lambda v: getattr(v, "name", None) or "no_death_signal",
)
def test_child_ends_with_its_parent(sig: signal.Signals, death_signal: int) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(int(death_signal))],
        stdout=subprocess.PIPE,
        text=True,
        # A background shell starts us with SIGINT ignored, which the parent would inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert not _gone(child)
        parent.send_signal(sig)
        parent.wait(30)
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child), f"the child outlived its parent ({sig.name})"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if not _gone(child):
            subprocess.run(["kill", "-KILL", str(child)], check=False)
