"""An HTTP request that meets a store outage gets 503 with Retry-After, not a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from peerloop_runtime.service import ServiceRuntime
from peerloop_runtime.settings import ServiceSettings
from pymongo.errors import AutoReconnect


def _app() -> FastAPI:
    runtime = ServiceRuntime(
        name="probe", settings=ServiceSettings(mongodb_uri="mongodb://127.0.0.1:1/")
    )
    app = FastAPI()
    runtime.instrument(app)

    @app.post("/things")
    async def create() -> dict[str, str]:
        # What pymongo raises while its pool is paused after the store went away.
        raise AutoReconnect("127.0.0.1:27017: connection pool paused")

    @app.post("/broken")
    async def broken() -> dict[str, str]:
        raise RuntimeError("a bug")

    return app


async def test_a_store_outage_is_answered_with_503_and_retry_after() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.post("/things")
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert "retry" in answer.json()["detail"]
        assert (await client.post("/broken")).status_code == 500  # bugs stay 500s
