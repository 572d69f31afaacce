"""The insights dashboard in a real Chromium: an admin sees every chart drawn (vega-embed
under the web app's Content-Security-Policy), a colleague without the scope is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from peerloop_cli.platform import WEB, Deployment
from playwright.async_api import Browser

from .test_learning_loop import DESKTOP, check_page, sign_in

pytestmark = pytest.mark.timeout(240)
ADMIN, COLLEAGUE = "p-010", "p-001"


async def test_an_admin_sees_every_chart_drawn(
    web_deployment: Deployment, browser: Browser, shots_dir: Path
) -> None:
    base = web_deployment.url(WEB)
    context = await browser.new_context(viewport=DESKTOP)
    try:
        page = await sign_in(context, base, ADMIN)
        errors: list[str] = []
        refused: list[str] = []
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response",
            lambda r: (
                refused.append(r.url)
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        await page.goto(f"{base}/insights?window=all")
        await page.wait_for_selector("body[data-charts-drawn='4']", timeout=30_000)
        assert await page.get_attribute("body", "data-charts-failed") is None
        for chart in ("supply-demand", "team-flows", "trend", "helper-load"):
            assert await page.locator(f"#chart-{chart} svg").count() >= 1, chart
        assert not errors, errors  # no CSP refusal (eval) nor script error
        assert not refused, refused  # every script and style was served
        await check_page(page, shots_dir, "insights")
    finally:
        await context.close()


async def test_a_colleague_without_the_scope_is_refused(
    web_deployment: Deployment, browser: Browser
) -> None:
    base = web_deployment.url(WEB)
    context = await browser.new_context(viewport=DESKTOP)
    try:
        page = await sign_in(context, base, COLLEAGUE)
        answer = await page.goto(f"{base}/insights")
        assert answer is not None and answer.status == 403
        assert "insights:read" in await page.inner_text("#problem")
    finally:
        await context.close()
