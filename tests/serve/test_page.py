"""The live page in a real browser (Debian's Chromium, headless, driven by playwright): it shows the same top symbols
as ``/flow``, draws a non-empty liquidation heatmap, lists big trades and liquidations, shows health, and logs no
console error. The screenshot is kept in ``$TAPEFLOW_ARTIFACTS`` (default ``build/artifacts``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import requests
from playwright.sync_api import ConsoleMessage, sync_playwright

from tests.serve.support import live_server

CHROMIUM = os.environ.get("TAPEFLOW_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TAPEFLOW_ARTIFACTS", Path(__file__).parents[2] / "build" / "artifacts"))


def test_the_page_shows_flow_heatmap_and_health_without_errors() -> None:
    # Not skipped when missing: `make dev` installs Debian's chromium; a machine without it fails here, loudly.
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), f"{CHROMIUM} not found: apt-get install -y chromium"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(drive_ms=120_000) as live, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems: list[str] = []

            def on_console(msg: ConsoleMessage) -> None:
                if msg.type in ("error", "warning"):
                    problems.append(f"{msg.type}: {msg.text}")

            page.on("console", on_console)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(live.url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            # The same top symbols, in the same order, as the API gives at the same moment (the clock stands still).
            api = requests.get(f"{live.url}/flow", params={"window": "15m", "sort": "abs_net", "limit": 15}, timeout=10)
            expected = [row["symbol"] for row in api.json()["rows"]]
            shown = page.locator("#flow tbody td.symbol").all_inner_texts()
            assert shown == expected and len(shown) == 6
            # The heatmap of the symbol of the latest liquidation has coloured cells, on the canvas itself.
            cells = int(page.locator("#heatmap").get_attribute("data-cells") or 0)
            assert cells > 0
            lit = page.evaluate(
                """() => {
                    const c = document.getElementById('heatmap');
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    let n = 0;
                    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 150) n++;
                    return n;
                }"""
            )
            assert lit > 100
            assert page.locator("#liquidations tbody tr").count() > 0
            assert page.locator("#big-trades tbody tr").count() > 0
            assert page.locator("#health").inner_text() == "ok"
            assert "none (nothing kept on disk)" in page.locator("#health-details").inner_text()  # no store here
            page.screenshot(path=str(ARTIFACTS / "serve-page.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()
