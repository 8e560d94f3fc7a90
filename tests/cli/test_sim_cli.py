"""The ``tapeflow sim`` command's options and start-up output."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from tapeflow.cli import sim as cli
from tests.sim.support import get


@pytest.mark.asyncio
async def test_cli_serves_and_prints_urls(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--market", "coinm", "--symbols", "4", "--speed", "30", "--seed", "3"])
    stop = asyncio.Event()
    task = asyncio.create_task(cli.serve(args, stop))
    for _ in range(200):
        out = capsys.readouterr().out
        if "rest:" in out:
            break
        await asyncio.sleep(0.01)
    rest = out.split("rest:")[1].split()[0].removesuffix("/...")
    status, _, info = await get(rest + "/exchangeInfo")
    assert status == 200 and len(info["symbols"]) == 4
    assert "ws://127.0.0.1:" in out
    stop.set()
    await asyncio.wait_for(task, 5)
