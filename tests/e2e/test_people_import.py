"""`peerloop import people.csv` against the live services: people, managers and teams
made through SCIM, a second run changing nothing, and each bad row named by its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from peerloop_cli.identity import service_token_for
from peerloop_cli.platform import Deployment

pytestmark = pytest.mark.e2e

PEERLOOP = Path(sys.executable).parent / "peerloop"


def _import(path: Path, deployment: Deployment) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PEERLOOP), "import", str(path), "--profiles-url", deployment.url("profiles")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _user(http: httpx.Client, user_name: str) -> dict[str, Any]:
    found = http.get("/scim/v2/Users", params={"filter": f'userName eq "{user_name}"'}).json()
    assert found["totalResults"] == 1, found
    resource: dict[str, Any] = found["Resources"][0]
    return resource


def test_an_import_provisions_people_once_and_names_each_bad_line(
    deployment: Deployment, tmp_path: Path, run_id: str
) -> None:
    ada, bob, eve = (f"{n}-{run_id}@example.com" for n in ("ada", "bob", "eve"))
    team = f"team-{run_id}"
    csv = tmp_path / "people.csv"
    csv.write_text(
        "user_name,email,display_name,team,department,manager,time_zone,active\n"
        f"{bob},{bob},Bob,{team},eng,{ada},Europe/Berlin,\n"  # manager further down
        f"{ada},{ada},Ada,{team},eng,,Europe/London,true\n"
        f"bad-{run_id},not-an-email,Bad,,,,,\n"
        f"{eve},{eve},Eve,,ops,nobody-{run_id}@example.com,,false\n"
        f"{ada},{ada},Ada again,,,,,\n"
    )
    first = _import(csv, deployment)
    assert first.returncode == 1, first.stdout + first.stderr
    out = first.stdout
    assert "line 4: email 'not-an-email' is not an e-mail address" in out
    assert "line 5: manager" in out and "nobody-" in out
    assert f"line 6: user_name '{ada}' is already on line 3" in out
    assert "2 created, 0 updated, 0 unchanged, 3 failed" in out

    scim = httpx.Client(
        base_url=deployment.url("profiles"),
        headers={"Authorization": f"Bearer {service_token_for('scim')}"},
        timeout=30,
    )
    hr = {"Authorization": f"Bearer {service_token_for('hr')}"}
    with scim:
        ada_id, bob_id = _user(scim, ada)["id"], _user(scim, bob)["id"]
        person = scim.get(f"/people/{bob_id}", headers=hr).json()
        assert (person["team"], person["manager_id"], person["time_zone"]) == (
            team,
            ada_id,
            "Europe/Berlin",
        )
        eve_person = scim.get(f"/people/{_user(scim, eve)['id']}", headers=hr).json()
        assert eve_person["status"] == "inactive"  # created, though its manager is unknown
        version = scim.get(f"/people/{bob_id}", headers=hr).json()["version"]

        again = _import(csv, deployment)
        assert again.returncode == 1
        assert "0 created, 0 updated, 2 unchanged, 3 failed" in again.stdout
        assert scim.get(f"/people/{bob_id}", headers=hr).json()["version"] == version

        fixed = tmp_path / "fixed.csv"
        fixed.write_text(
            "user_name,email,display_name,team,manager\n"
            f"{bob},{bob},Bob B.,,\n"
            f"{ada},{ada},Ada,{team},\n"
        )
        changed = _import(fixed, deployment)
        assert changed.returncode == 0, changed.stdout + changed.stderr
        assert "0 created, 2 updated, 0 unchanged, 0 failed" in changed.stdout
        bob_now = scim.get(f"/people/{bob_id}", headers=hr).json()
        assert (bob_now["display_name"], bob_now["team"], bob_now["manager_id"]) == (
            "Bob B.",
            "unassigned",
            None,
        )
