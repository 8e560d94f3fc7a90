"""The peer benchmark suite: tapeflow side by side with the libraries people use, in one run.

Run it with ``make bench-peers``: that builds tapeflow's wheel, makes a separate venv with the wheel and the peers
(``benches/peers/requirements.txt``), and runs ``python benches/peers/run.py`` in it. Writes ``results.json``,
``results.md`` and PNG charts to ``benches/peers/results/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flow
import bench_liq
import docs_page
import report
from bench_books import run_dataset
from sessions import ROOT, generated_session, recorded_sessions

RESULTS = Path(__file__).resolve().parent / "results"
DISTRIBUTIONS = [
    "tapeflow",
    "python-binance",
    "unicorn-binance-local-depth-cache",
    "cryptofeed",
    "order-book",
    "nautilus_trader",
    "sortedcontainers",
    "pandas",
    "numpy",
    "orjson",
    "msgspec",
]


def versions() -> dict[str, str]:
    out = {}
    for name in DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def commit() -> str:
    """The checked-out commit, with ``+changes`` when the work tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout

    try:
        return git("rev-parse", "--short", "HEAD").strip() + (
            "+changes" if git("status", "--porcelain").strip() else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def publish(results: dict[str, Any], out: Path) -> None:
    report.write(results, out)
    if out.resolve() == RESULTS and "--quick" not in results["meta"]["command"]:  # the committed results
        docs_page.write(results, ROOT / "docs" / "peers.md")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per contender (median reported)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="default: benches/peers/results (also docs/peers.md)")
    parser.add_argument("--quick", action="store_true", help="small inputs and 3 rounds (a smoke run, not figures)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the tables, charts and page from results.json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        publish(json.loads((args.out / "results.json").read_text()), args.out)
        return 0
    rounds = 3 if args.quick else args.rounds

    def log(line: str) -> None:
        print(line, flush=True)

    started = time.time()
    results: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": "make bench-peers" + (" BENCH_ARGS=--quick" if args.quick else ""),
            "rounds": rounds,
            "python": platform.python_version(),
            "commit": commit(),
            "machine": machine(),
            "versions": versions(),
            "load_before": round(os.getloadavg()[0], 2),
        },
        "unavailable": {},
        "books": {},
    }
    datasets = {
        "recordings": recorded_sessions(),
        "generated": [generated_session(diffs=500 if args.quick else 2_500)],
    }
    for name, sessions in datasets.items():
        log(f"books / {name}")
        results["books"][name], unavailable = run_dataset(sessions, rounds, 1 if name == "recordings" else 10, log)
        results["unavailable"].update(unavailable)
    log("flow / 15-minute taker buy/sell volume")
    cases = [(1, 100_000, 20.0), (400, 200_000, 100.0)] if not args.quick else [(1, 20_000, 20.0), (400, 40_000, 100.0)]
    results["flow"] = [bench_flow.run_case(s, n, rate, rounds, log) for s, n, rate in cases]
    log("liquidations / totals and series")
    results["liq"] = bench_liq.run(30_000 if args.quick else 150_000, rounds, log)
    results["meta"]["seconds"] = round(time.time() - started)
    results["meta"]["load_after"] = round(os.getloadavg()[0], 2)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    publish(results, args.out)
    log(f"wrote {args.out}/results.json, results.md and charts in {results['meta']['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
