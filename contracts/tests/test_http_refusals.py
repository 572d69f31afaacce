"""A service's table of refusals answers each with its status, detail and headers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from peerloop_runtime.http_errors import Answer, Refusals, field_error, install_refusals


class Refused(Exception):
    pass


class Missing(Refused):
    pass


class Lagging(Refused):
    retry_after_seconds = 2


class BadField(Refused):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: out of range")
        self.field = field


REFUSALS: Refusals = {
    Refused: 409,
    Missing: 404,
    Lagging: Answer(503, headers=lambda exc: {"Retry-After": str(exc.retry_after_seconds)}),
    BadField: Answer(422, detail=lambda exc: field_error(["body", exc.field], str(exc), "value")),
}


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    install_refusals(app, REFUSALS)
    raised = {
        "missing": Missing("no such thing"),
        "lagging": Lagging("not known here yet"),
        "bad": BadField("level"),
        "other": Refused("not in a state for that"),
    }

    @app.get("/{what}")
    async def fail(what: str) -> None:
        raise raised[what]

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://svc")


async def test_the_most_specific_type_listed_decides_the_status() -> None:
    async with _client() as client:
        missing = await client.get("/missing")
        other = await client.get("/other")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such thing"})
    assert (other.status_code, other.json()) == (409, {"detail": "not in a state for that"})


async def test_an_answer_adds_headers_or_shapes_the_detail() -> None:
    async with _client() as client:
        lagging = await client.get("/lagging")
        bad = await client.get("/bad")
    assert lagging.status_code == 503
    assert lagging.headers["retry-after"] == "2"
    assert lagging.json() == {"detail": "not known here yet"}
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": [{"loc": ["body", "level"], "msg": "level: out of range", "type": "value"}]
    }
