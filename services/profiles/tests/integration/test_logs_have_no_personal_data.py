"""Logs at INFO and above carry ids, never names, e-mails or free text."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def test_no_personal_data_in_logs(
    app: FastAPI, hr: httpx.Auth, run_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    name, mail, text = f"Zelda Quux {run_id}", f"zelda.{run_id}@example.com", f"secret-{run_id}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://t", auth=hr
    ) as http:
        made = await http.post(
            "/people",
            json={
                "person_id": f"z-{run_id}",
                "display_name": name,
                "email": mail,
                "team": "t",
                "time_zone": "Europe/Paris",
            },
        )
        assert made.status_code == 201
        offered = await http.post(
            f"/people/z-{run_id}/skills", json={"skill": "python", "level": 3, "description": text}
        )
        assert offered.status_code in (200, 201)
        bad = await http.post(f"/people/z-{run_id}/skills", json={"skill": "python", "level": 9})
        assert bad.status_code == 422
        await asyncio.sleep(1)  # the relay publishes and logs
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert logged, "nothing was logged at all"
    for secret in (name, mail, text):
        assert secret not in logged
