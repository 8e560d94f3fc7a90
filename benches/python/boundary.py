"""What the Python binding adds to a frame: the recordings' depth diffs (after every book is synced) applied with one
``Engine.apply_frame`` call per frame and with one ``Engine.apply_frames`` call per recording, the fastest of N passes
of each (compare with ``target/release/examples/prof time RECORDING``, the engine alone).

Run: ``.venv/bin/python benches/python/boundary.py [PASSES]`` (default 40).
"""

from __future__ import annotations

import sys
import time

# Run as a script, this file's folder is first on the path: the benchmarks' session loader is importable.
from conftest import RECORDINGS, Session, load_session, synced_engine


def one_pass(sessions: list[Session], batch: bool) -> float:
    engines = [synced_engine(s) for s in sessions]
    start = time.perf_counter()
    for engine, session in zip(engines, sessions, strict=True):
        if batch:
            engine.apply_frames(session.depth_frames, 0)
        else:
            apply = engine.apply_frame
            for raw in session.depth_frames:
                apply(raw, 0)
    return time.perf_counter() - start


def main() -> None:
    passes = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    sessions = [load_session(p) for p in RECORDINGS]
    frames = sum(len(s.depth_frames) for s in sessions)
    best = {"apply_frame (one call per frame)": float("inf"), "apply_frames (one call per recording)": float("inf")}
    for _ in range(passes):
        for name in best:
            best[name] = min(best[name], one_pass(sessions, batch=name.startswith("apply_frames")))
    for name, seconds in best.items():
        print(f"{name}: {seconds / frames * 1e9:.0f} ns a frame ({frames / seconds:,.0f} frames/s), {frames} frames")


if __name__ == "__main__":
    main()
