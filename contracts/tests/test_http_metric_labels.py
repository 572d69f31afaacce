"""HTTP metric labels stay bounded whatever a client sends: methods, paths, ids."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from peerloop_runtime.metrics import HTTP_METHODS, http_metrics_middleware
from prometheus_client import REGISTRY


def _count(method: str, route: str, status: str) -> float:
    labels = {"service": "labels-test", "method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("peerloop_http_requests_total", labels) or 0.0


def _app() -> FastAPI:
    app = FastAPI()
    app.middleware("http")(http_metrics_middleware("labels-test"))

    @app.get("/people/{person_id}")
    async def person(person_id: str) -> dict[str, str]:
        return {"person_id": person_id}

    return app


@pytest.mark.parametrize(
    ("method", "path", "labels"),
    [
        ("GET", "/people/p-123", ("GET", "/people/{person_id}", "200")),
        ("BREW", "/people/p-123", ("other", "/people/{person_id}", "405")),
        ("X-" + "A" * 200, "/people/p-9", ("other", "/people/{person_id}", "405")),
        ("PROPFIND", "/wp-admin/setup.php", ("other", "unmatched", "404")),
        ("GET", "/people/p-1/../../etc/passwd", ("GET", "unmatched", "404")),
        ("DELETE", "/people/p-1", ("DELETE", "/people/{person_id}", "405")),
    ],
)
async def test_unknown_methods_and_paths_get_bounded_labels(
    method: str, path: str, labels: tuple[str, str, str]
) -> None:
    before = _count(*labels)
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        await client.request(method, path)
    assert _count(*labels) == before + 1
    methods = {
        s.labels["method"]
        for m in REGISTRY.collect()
        if m.name == "peerloop_http_requests"
        for s in m.samples
    }
    assert methods <= HTTP_METHODS | {"other"}
