"""Request bodies over the configured cap are refused with 413, chunked or not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from peerloop_runtime.service import ServiceRuntime
from peerloop_runtime.settings import ServiceSettings
from pydantic import BaseModel

LIMIT = 2048


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    settings = ServiceSettings(mongodb_uri="mongodb://127.0.0.1:1/", max_body_bytes=LIMIT)
    runtime = ServiceRuntime(name="probe", settings=settings)
    app = FastAPI()
    runtime.instrument(app)

    @app.post("/notes")
    async def create(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "no such thing")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


async def test_a_body_within_the_cap_is_served(client: httpx.AsyncClient) -> None:
    answer = await client.post("/notes", json={"text": "x" * (LIMIT - 100)})
    assert answer.status_code == 200


async def test_a_declared_body_over_the_cap_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/notes", json={"text": "x" * LIMIT})
    assert answer.status_code == 413
    assert f"larger than {LIMIT} bytes" in answer.json()["detail"]


async def test_a_chunked_body_over_the_cap_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    answer = await client.post(
        "/notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert f"larger than {LIMIT} bytes" in answer.json()["detail"]


async def test_other_http_errors_keep_their_answer(client: httpx.AsyncClient) -> None:
    answer = await client.get("/missing")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no such thing"}
