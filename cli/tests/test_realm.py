"""The committed demo realm is what the generator makes from the demo organisation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from peerloop_cli.demo_data import build_organisation
from peerloop_cli.infra import keycloak
from peerloop_cli.infra.jvm import java_major
from peerloop_cli.infra.process import InfraError
from peerloop_cli.realm import ADMINS, DEFAULT_SCOPES, SERVICE_ACCOUNTS, realm_path, render


def test_committed_realm_file_matches_the_generator() -> None:
    assert realm_path().read_text() == render(), (
        "deploy/keycloak/peerloop-realm.json is stale: run `.venv/bin/python -m peerloop_cli.realm`"
    )


def test_realm_holds_every_demo_person_and_the_admins() -> None:
    realm = json.loads(render())
    org = build_organisation()
    people = {u["username"]: u for u in realm["users"] if "serviceAccountClientId" not in u}
    assert len(people) == len(org.people) == 200
    for person in org.people:
        user = people[person.person_id]
        assert user["email"] == person.email
        assert f"{user['firstName']} {user['lastName']}" == person.display_name
        assert ("/peerloop-admins" in user["groups"]) == (person.person_id in ADMINS)
    service_users = {
        u["serviceAccountClientId"] for u in realm["users"] if "serviceAccountClientId" in u
    }
    assert service_users == set(SERVICE_ACCOUNTS)


def test_every_client_gets_the_audience_and_groups_scope() -> None:
    realm = json.loads(render())
    assert "peerloop-audience" in DEFAULT_SCOPES
    for client in realm["clients"]:
        assert "peerloop-audience" in client["defaultClientScopes"], client["clientId"]
    scope = next(s for s in realm["clientScopes"] if s["name"] == "peerloop-audience")
    mappers = {m["protocolMapper"]: m["config"] for m in scope["protocolMappers"]}
    assert mappers["oidc-audience-mapper"]["included.custom.audience"] == "peerloop"
    assert mappers["oidc-group-membership-mapper"]["full.path"] == "false"


def _fake_java(folder: Path, version: str) -> Path:
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-01-01' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return java


def test_java_home_override_must_be_java_21_or_newer(tmp_path: Path) -> None:
    old = _fake_java(tmp_path / "old", "17.0.15")
    new = _fake_java(tmp_path / "new", "25.0.1")
    with pytest.raises(InfraError, match="needs Java 21"):
        keycloak.java_binary(str(old.parent.parent))
    assert keycloak.java_binary(str(new.parent.parent)) == str(new)


@pytest.mark.skipif(not os.path.isdir("/usr/lib/jvm"), reason="no /usr/lib/jvm here")
def test_java_lookup_finds_a_new_enough_jdk_or_explains() -> None:
    message = ""
    try:
        found = keycloak.java_binary()
    except InfraError as exc:
        message = str(exc)
        found = ""
    if not found:
        assert "PEERLOOP_KEYCLOAK_JAVA_HOME" in message
        return
    major = java_major(Path(found))
    assert major is not None and major >= keycloak.MIN_JAVA
