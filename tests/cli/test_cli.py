"""The ``tapeflow`` command: replay output (files and the bundled recordings), errors and the simulator sub-command.

``tapeflow demo`` is tested in ``test_demo.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tapeflow.cli import main
from tests.support import RECORDINGS


def test_replay_prints_each_book(capsys: pytest.CaptureFixture[str]) -> None:
    spot = next(p for p in RECORDINGS if p.name.startswith("spot"))
    assert main(["replay", str(spot), "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "market spot: 265 frames, 4 snapshots, 0 gaps, 0 malformed" in out
    for symbol in ("NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"):
        assert f"{symbol} " in out
    assert out.count("SYNCED") == 4


def test_replay_reads_gzip(tmp_path: Path) -> None:
    import gzip

    packed = next(p for p in RECORDINGS if p.name.startswith("spot"))
    spot = tmp_path / "spot.jsonl"
    spot.write_bytes(gzip.decompress(packed.read_bytes()))
    plain, packed_out = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["replay", str(spot), "--emit", "books", "-o", str(plain)]) == 0
    assert main(["replay", str(packed), "--emit", "books", "-o", str(packed_out)]) == 0
    assert plain.read_bytes() == packed_out.read_bytes() and plain.stat().st_size > 0


def test_bad_inputs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "No such file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind":"ws_open","t":1,"url":"wss://stream.binance.com/stream"}\nnot json\n')
    assert main(["replay", str(bad)]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err


def test_replay_bundled_recordings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--bundled", "--depth", "5"]) == 0
    out = capsys.readouterr().out
    assert out.count("=== replay of") == 3
    assert "GAP" not in out and "SYNCING" not in out


def test_replay_needs_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay"]) == 2
    assert "--bundled" in capsys.readouterr().err
    spot = next(p for p in RECORDINGS if p.name.startswith("spot"))
    assert main(["replay", str(spot), "--bundled"]) == 2
    assert "not both" in capsys.readouterr().err


def test_sim_subcommand_serves_until_stopped() -> None:
    command = [sys.executable, "-m", "tapeflow.cli", "sim", "--symbols", "2", "--market", "spot"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("tapeflow sim: spot, 2 symbols")
            assert "ws://127.0.0.1:" in proc.stdout.readline()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--speed", "-1"], "argument --speed: -1 is not a number > 0"),
        (["demo", "--speed", "nan"], "argument --speed: 'nan' is not a finite number"),
        (["demo", "--symbols", "0"], "argument --symbols: 0 is not a whole number > 0"),
        (["watch", "--top", "x"], "argument --top: 'x' is not a whole number"),
        (["watch", "--interval", "0"], "argument --interval: 0 is not a number > 0"),
        (["serve", "--port", "70000"], "argument --port: 70000 is not a port"),
        (["sim", "--rate", "-2"], "argument --rate: -2 is not a number > 0"),
        (["replay", "--bundled", "--depth", "0"], "argument --depth: 0 is not a whole number > 0"),
        (["record", "out.jsonl", "--duration", "-5"], "argument --duration: -5 is not a number > 0"),
    ],
)
def test_bad_option_values_are_refused_naming_the_option(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
