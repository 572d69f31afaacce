"""The services and the web app as processes, and a real Chromium driven by Playwright.

Chromium is Debian's package (./scripts/install-system-tools); Playwright's own browser
download is never used. Screenshots go to .peerloop/browser-shots/ (not committed).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from peerloop_cli.identity import IdentityProvider
from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import repo_root
from peerloop_cli.infra.process import free_port
from peerloop_cli.platform import SERVICE_NAMES, Deployment
from peerloop_cli.testing.groups import start_groups_at_end
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path(os.environ.get("PEERLOOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    path = repo_root() / ".peerloop" / "browser-shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def web_deployment(infra: stack.Endpoints, identity: IdentityProvider) -> Iterator[Deployment]:
    tag = uuid.uuid4().hex[:8]
    deployment = Deployment(
        prefix=f"web-{tag}",
        ports={name: free_port() for name in SERVICE_NAMES},
        smtp_port=free_port(),
        web_port=free_port(),
        database_prefix=f"web_{tag}_",
        group_prefix=f"web-{tag}-",
        extra_env={
            "PEERLOOP_PROPOSAL_TTL_SECONDS": "3600",
            "PEERLOOP_DELIVERY_BASE_DELAY_SECONDS": "0.5",
            "PEERLOOP_STREAM_POLL_SECONDS": "0.5",
        },
    )
    groups = [
        f"{deployment.group_prefix}{svc}{suffix}"
        for svc in SERVICE_NAMES
        for suffix in ("", ".candidates", ".requests")
    ]
    try:
        asyncio.run(start_groups_at_end(infra.kafka_bootstrap, groups))
        deployment.up(infra)
        yield deployment
    finally:
        deployment.down()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - once per session
        pytest.fail(f"{CHROMIUM} is missing: run ./scripts/install-system-tools")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
