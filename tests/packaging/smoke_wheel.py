"""Installs a built wheel as a user would and checks the installed package, for each given CPython.

Usage: ``python3 tests/packaging/smoke_wheel.py WHEEL PYTHON [PYTHON ...]`` (``make test-wheel`` runs it).

For every interpreter: a fresh venv in a temporary directory outside the checkout, ``pip install WHEEL`` (its
dependencies from the package index), then, with that directory as the working directory and Python's isolated
mode (no current directory or ``PYTHONPATH`` on ``sys.path``) so that the source tree cannot be imported:

- ``import tapeflow`` resolves to the venv and its engine is the abi3 extension;
- ``tapeflow replay --bundled`` replays the recordings shipped in the wheel, every book synced with no gap;
- each shipped recording replayed with ``--emit books`` equals, byte for byte, its golden file in
  ``tests/data/golden`` (the books of an independent ``Decimal`` replay), so the installed engine computes what the
  reference does.

The wheel itself must carry the abi3 and manylinux2014 tags, and its engine may use no glibc symbol newer than 2.17.
Prints one line per check and ends with ``packaging: N passed, N failed``; exits 1 if any check failed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"
MAX_GLIBC = (2, 17)  # manylinux2014 = manylinux_2_17

_WHERE = """
import pathlib, sys, tapeflow, tapeflow._core as core
print(sys.version.split()[0], tapeflow.__version__, pathlib.Path(tapeflow.__file__).resolve(), core.__file__)
"""
_RECORDINGS = """
import tapeflow
from importlib import resources
root = resources.files("tapeflow") / "data" / "recordings"
print("\\n".join(sorted(str(p) for p in root.iterdir() if p.name.endswith(".jsonl.gz"))))
"""


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def run(self, name: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
        except (AssertionError, subprocess.CalledProcessError, OSError) as e:
            self.failed += 1
            extra = f"\n{e.stdout}{e.stderr}" if isinstance(e, subprocess.CalledProcessError) else ""
            print(f"FAIL {name}: {e}{extra}", flush=True)
            return False
        self.passed += 1
        print(f"ok   {name}{': ' + detail if detail else ''}", flush=True)
        return True


def run(cmd: list[str | Path], cwd: Path) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def glibc_versions(so: bytes, work: Path) -> list[tuple[int, ...]]:
    lib = work / "engine.so"
    lib.write_bytes(so)
    symbols = run(["objdump", "-T", lib], work)
    return sorted({tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", symbols)})


def check_wheel(wheel: Path, work: Path) -> str:
    tags = wheel.name.removesuffix(".whl").split("-")[-3:]
    assert tags[1] == "abi3", f"not an abi3 wheel: {wheel.name}"
    assert "manylinux2014_x86_64" in tags[2] or "manylinux_2_17_x86_64" in tags[2], f"platform tag {tags[2]}"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        engines = [n for n in names if re.fullmatch(r"tapeflow/_core\.abi3\.so", n)]
        assert engines, f"no tapeflow/_core.abi3.so in the wheel: {[n for n in names if n.endswith('.so')]}"
        versions = glibc_versions(z.read(engines[0]), work)
    assert versions and versions[-1] <= MAX_GLIBC, f"engine needs glibc {versions[-1]}"
    return f"{'-'.join(tags)}, glibc symbols up to {'.'.join(map(str, versions[-1]))}"


def install(python: str, wheel: Path, venv: Path) -> str:
    """A fresh venv with the wheel and its dependencies; returns the venv's Python version."""
    run([python, "-m", "venv", venv], venv.parent)
    py = venv / "bin" / "python"
    run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel], venv.parent)
    return run([py, "-c", "import sys; print(sys.version.split()[0])"], venv.parent).strip()


def check_installed(venv: Path, work: Path, label: str, checks: Checks) -> None:
    py, cli = venv / "bin" / "python", venv / "bin" / "tapeflow"

    def imports() -> str:
        version, pkg_version, package, engine = run([py, "-I", "-c", _WHERE], work).split()
        assert Path(package).is_relative_to(venv.resolve()), f"tapeflow imported from {package}"
        assert not Path(package).is_relative_to(ROOT), "imported from the checkout"
        assert engine.endswith("_core.abi3.so"), f"engine {engine}"
        return f"tapeflow {pkg_version} on {version} from {Path(package).parent}"

    def replay_bundled() -> str:
        out = run([cli, "replay", "--bundled"], work)
        summaries = re.findall(r"market (\w+): (\d+) frames, (\d+) snapshots, (\d+) gaps, (\d+) malformed", out)
        assert len(summaries) == 3, f"expected 3 replayed recordings, got {summaries}\n{out[:2000]}"
        assert all(s[3] == "0" and s[4] == "0" for s in summaries), summaries
        states = re.findall(r"^\S+ +(SYNCED|SYNCING|GAP) +u=", out, re.MULTILINE)
        assert states and set(states) == {"SYNCED"}, f"book states {states}"
        return ", ".join(f"{m} {f} frames" for m, f, *_ in summaries) + f"; {len(states)} books synced"

    def golden_books() -> str:
        shipped = [Path(p) for p in run([py, "-I", "-c", _RECORDINGS], work).split()]
        names = sorted(p.name.removesuffix(".jsonl.gz") for p in shipped)
        expected = sorted(p.name.removesuffix(".golden.jsonl") for p in GOLDEN.glob("*.golden.jsonl"))
        assert names == expected, f"shipped recordings {names}, golden files {expected}"
        lines = 0
        for path in shipped:
            out = work / f"{venv.name}-{path.name}.books.jsonl"
            run([cli, "replay", path, "--emit", "books", "-o", out], work)
            golden = GOLDEN / f"{path.name.removesuffix('.jsonl.gz')}.golden.jsonl"
            assert out.read_bytes() == golden.read_bytes(), f"{path.name}: books differ from {golden.name}"
            lines += len(golden.read_bytes().splitlines())
        return f"{len(shipped)} recordings, {lines} books equal to the golden files"

    checks.run(f"import from the venv ({label})", imports)
    checks.run(f"tapeflow replay --bundled ({label})", replay_bundled)
    checks.run(f"bundled recordings replay to the golden books ({label})", golden_books)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    wheel, pythons = Path(argv[0]).resolve(), argv[1:]
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="tapeflow-wheel-") as tmp:
        work = Path(tmp)
        assert not work.is_relative_to(ROOT)
        checks.run(f"wheel tags and glibc ({wheel.name})", lambda: check_wheel(wheel, work))
        venvs = [work / f"venv-{i}" for i in range(len(pythons))]
        with ThreadPoolExecutor(len(pythons)) as pool:  # the installs wait on the package index: side by side
            installs = [pool.submit(install, py, wheel, venv) for py, venv in zip(pythons, venvs, strict=True)]
        for python, venv, job in zip(pythons, venvs, installs, strict=True):
            label = python if "/" in python else Path(python).name
            if checks.run(f"pip install into a fresh venv ({label})", job.result):
                check_installed(venv, work, label, checks)
    print(f"packaging: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
