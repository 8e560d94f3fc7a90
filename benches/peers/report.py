"""results.json -> results.md (tables) and PNG bar charts, for benches/peers/results and docs/peers.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TAPEFLOW = ("tapeflow (per frame)", "tapeflow (batch)")
MODE_TITLES = {"apply": "apply", "best": "apply + best bid/ask", "top10": "apply + top 10"}


def _rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:,.1f} k" if x >= 1e3 else f"{x:,.0f}"


def _correct(c: dict[str, Any]) -> str:
    if c["correct"]:
        extra = f"; whole-book digests = golden ({c['golden_digests']} books)" if "golden_digests" in c else ""
        resnap = f"; {c['resnapshots']} re-snapshots" if c.get("resnapshots") else ""
        return f"yes: {c['points']:,} check points{extra}{resnap}"
    symbols = len(set(c["wrong_symbols"]))
    return f"**no**: {c['wrong']:,} of {c['points']:,} check points wrong, on {symbols} of {c['symbols']} symbols"


def book_ratios(data: dict[str, Any]) -> dict[str, tuple[str, float, float]]:
    """Per mode: the fastest correct peer (not tapeflow), its rate, and tapeflow's best rate divided by it."""
    out = {}
    for mode, rows in data["modes"].items():
        peers = {n: r for n, r in rows.items() if n not in TAPEFLOW and data["correctness"][n]["correct"]}
        ours = max(r["rate"] for n, r in rows.items() if n in TAPEFLOW)
        if peers:
            best = max(peers, key=lambda n: peers[n]["rate"])
            out[mode] = (best, peers[best]["rate"], ours / peers[best]["rate"])
    return out


def headline(results: dict[str, Any]) -> str:
    """The book ratio against the fastest correct peer, per session set (apply mode)."""
    lines = []
    for name, data in results["books"].items():
        rows = data["modes"]["apply"]
        correct = {n: r["rate"] for n, r in rows.items() if n not in TAPEFLOW and data["correctness"][n]["correct"]}
        if not correct or not all(t in rows for t in TAPEFLOW):
            continue
        best = max(correct, key=correct.__getitem__)
        frame, batch = rows[TAPEFLOW[0]]["rate"], rows[TAPEFLOW[1]]["rate"]
        line = (
            f"- **Books, {name}, applying diffs**: tapeflow {_rate(frame)} frames/s one call per frame and "
            f"{_rate(batch)} per batch; the fastest correct peer, {best}, {_rate(correct[best])}: "
            f"**{frame / correct[best]:.1f}x** per frame, **{batch / correct[best]:.1f}x** per batch."
        )
        fastest = max((n for n in rows if n not in TAPEFLOW), key=lambda n: rows[n]["rate"])
        if fastest != best:
            line += f" (Faster but wrong: {fastest}, {_rate(rows[fastest]['rate'])}.)"
        lines.append(line)
    return "\n".join(lines)


def _books(name: str, data: dict[str, Any], unavailable: dict[str, str]) -> list[str]:
    sessions = ", ".join(f"{k} ({v['market']}, {v['symbols']} symbols)" for k, v in data["sessions"].items())
    lines = [
        f"### Books: {name}",
        "",
        f"{data['frames']:,} timed depth frames from {sessions}. Frames per second, median of the interleaved rounds.",
        "",
        "| peer | apply | apply + best bid/ask | apply + top 10 | top 10 correct |",
        "|---|---:|---:|---:|---|",
    ]
    for peer, c in data["correctness"].items():
        cells = [_rate(data["modes"][m][peer]["rate"]) if peer in data["modes"][m] else "n/a" for m in MODE_TITLES]
        lines.append(f"| {peer} | {' | '.join(cells)} | {_correct(c)} |")
    lines += [f"| {peer} | unavailable | | | {why} |" for peer, why in unavailable.items()]
    lines.append("")
    for mode, (peer, rate, ratio) in book_ratios(data).items():
        lines.append(
            f"- {MODE_TITLES[mode]}: fastest correct peer **{peer}** at {_rate(rate)} frames/s; "
            f"tapeflow **{ratio:.1f}x** that."
        )
    return [*lines, ""]


def _flow(cases: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### 15-minute taker buy/sell volume",
        "",
        "| contender | "
        + " | ".join(f"{c['symbols']} symbol(s): trades/s" for c in cases)
        + " | exact at check points |",
        "|---|" + "---:|" * len(cases) + "---|",
    ]
    for name in cases[0]["contenders"]:
        cells = [_rate(c["contenders"][name]["rate"]) for c in cases]
        exact = "; ".join(
            f"{c['contenders'][name]['exact']}/{c['contenders'][name]['checked']}"
            + (
                f" (max rel. error {c['contenders'][name]['max_rel_error']:.1e})"
                if c["contenders"][name]["max_rel_error"]
                else ""
            )
            for c in cases
        )
        lines.append(f"| {name} | {' | '.join(cells)} | {exact} |")
    notes = {c["contenders"]["naive recompute per trade"].get("note", "") for c in cases}
    lines += ["", *(f"- naive recompute: {n}." for n in sorted(notes) if n)]
    return [*lines, ""]


def _liq(liq: dict[str, Any]) -> list[str]:
    t = liq["timing"]
    lines = [
        "### Liquidation totals and series (BTCUSDT, against the old service's deque scan)",
        "",
        f"{liq['events']:,} forceOrder frames over ~240 h, {liq['btcusdt_events']:,} of them BTCUSDT.",
        "",
        "| | tapeflow | old service | ratio |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "ingest": "ingest, frames/s",
        "totals": "totals (9 look-backs x sides), queries/s",
        "series": "series, queries/s",
    }
    for case, label in labels.items():
        ours = next(v for k, v in t[case].items() if k.startswith("tapeflow"))["rate"]
        theirs = t[case]["old service"]["rate"]
        lines.append(f"| {label} | {_rate(ours)} | {_rate(theirs)} | {ours / theirs:.0f}x |")
    lines += ["", "| exactness | exact | checked | max abs. error (USD) |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {v['exact']} | {v['checked']} | {v['max_abs_error_usd']:g} |" for k, v in liq["checks"].items()]
    return [*lines, ""]


def _load(meta: dict[str, Any]) -> str:
    """The machine's 1-minute load average at the start and end of the run (other work on a shared machine slows
    every contender, not all by the same factor), when the run recorded it."""
    if "load_before" not in meta:
        return ""
    return f"; load average {meta['load_before']:g} at the start, {meta.get('load_after', '?')} at the end"


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        f"Run {meta['date']} at commit {meta['commit']} with `{meta['command']}` ({meta['rounds']} interleaved rounds, "
        f"{meta.get('seconds', '?')} s), CPython {meta['python']}, {meta['machine']}{_load(meta)}.",
        "",
        f"Versions: {versions}.",
        "",
    ]
    unavailable = results.get("unavailable", {})
    for name, data in results["books"].items():
        lines += _books(name, data, {k: v for k, v in unavailable.items() if k not in data["correctness"]})
    lines += _flow(results["flow"]) + _liq(results["liq"])
    return "\n".join(lines)


def charts(results: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for name, data in results["books"].items():
        peers = list(data["correctness"])
        fig, ax = plt.subplots(figsize=(10, 0.55 * len(peers) + 1.5))
        height = 0.27
        for k, mode in enumerate(MODE_TITLES):
            rates = [data["modes"][mode].get(p, {}).get("rate", 0) for p in peers]
            ys = [i + (k - 1) * height for i in range(len(peers))]
            ax.barh(ys, rates, height=height, label=MODE_TITLES[mode])
        labels = [p if data["correctness"][p]["correct"] else f"{p} (wrong top 10)" for p in peers]
        ax.set_yticks(range(len(peers)), labels)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("depth frames per second (log scale; more is better)")
        ax.set_title(f"Local order book, {name}: {data['frames']:,} frames")
        ax.legend(loc="lower right")
        ax.grid(axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        paths.append(out / f"books_{name}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    cases = results["flow"]
    names = list(cases[0]["contenders"])
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(names) + 1.5))
    for k, case in enumerate(cases):
        ys = [i + (k - 0.5) * 0.4 for i in range(len(names))]
        ax.barh(ys, [case["contenders"][n]["rate"] for n in names], height=0.4, label=f"{case['symbols']} symbol(s)")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("trades per second with the 15-minute buy/sell volume kept (log scale)")
    ax.set_title("15-minute taker buy/sell volume")
    ax.legend(loc="lower right")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    paths.append(out / "flow.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    t = results["liq"]["timing"]
    cases_liq = ["ingest", "totals", "series"]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for k, who in enumerate(("tapeflow", "old service")):
        rates = [next(v for n, v in t[c].items() if n.startswith(who))["rate"] for c in cases_liq]
        ax.bar([i + (k - 0.5) * 0.4 for i in range(3)], rates, width=0.4, label=who)
    ax.set_xticks(range(3), ["ingest (frames/s)", "totals (queries/s)", "series (queries/s)"])
    ax.set_yscale("log")
    ax.set_title("Liquidations: tapeflow vs the old service's deque scan")
    ax.legend()
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    paths.append(out / "liq.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write(results: dict[str, Any], out: Path) -> None:
    (out / "results.md").write_text(markdown(results) + "\n")
    charts(results, out)
