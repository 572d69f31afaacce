"""INSIGHTS DASHBOARD: how long the insights page takes to show its charts.

`python -m bench.insights_dashboard [--base http://127.0.0.1:8100] [--runs 10]` against a
running web app (`peerloop up`, after `peerloop demo` for figures). In a real Chromium,
signed in as an admin through the identity provider: the page's HTML (the web app asks
the insights service and Altair makes the specs) and the whole render until vega-embed
has drawn all four charts, each p50 and max over the runs. The yardstick, in the same
browser and run, is the Home page's load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from peerloop_cli.realm import DEMO_PASSWORD
from playwright.async_api import Page, async_playwright

from bench.report import print_table

CHROMIUM = "/usr/bin/chromium"
ADMIN = "p-010"


async def _timed(page: Page, url: str, ready: str) -> tuple[float, float]:
    """(seconds until the HTML arrived, seconds until `ready` matched)."""
    started = time.perf_counter()
    await page.goto(url, wait_until="commit")
    html = time.perf_counter() - started
    await page.wait_for_selector(ready, timeout=60_000)
    return html, time.perf_counter() - started


async def measure(base: str, runs: int) -> dict[str, Any]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        await page.goto(f"{base}/login")
        await page.fill("#username", ADMIN)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("#kc-login")
        await page.wait_for_url(f"{base}/**")
        home = [await _timed(page, f"{base}/", "main") for _ in range(runs)]
        board = [
            await _timed(page, f"{base}/insights?window=all", "body[data-charts-drawn='4']")
            for _ in range(runs)
        ]
        await browser.close()

    def p50(values: list[float]) -> float:
        return statistics.median(values) * 1000

    def row(name: str, values: list[float]) -> tuple[str, float, float]:
        return name, p50(values), max(values) * 1000

    rows = [
        row("Home page (yardstick): loaded", [t for _, t in home]),
        row("insights: HTML with specs", [h for h, _ in board]),
        row("insights: 4 charts drawn", [t for _, t in board]),
    ]
    print_table(f"INSIGHTS DASHBOARD ({runs} runs, {base})", ("page", "p50 ms", "max ms"), rows)
    return {name: {"p50_ms": a, "max_ms": b} for name, a, b in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    asyncio.run(measure(args.base.rstrip("/"), args.runs))


if __name__ == "__main__":
    main()
