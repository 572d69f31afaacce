"""Each service's Dockerfile: multi-stage, non-root, health-checked, built from uv.lock."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import validate_deploy

ROOT = Path(__file__).resolve().parents[2]


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in instructions:
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


@pytest.mark.parametrize("service", sorted(validate_deploy.SERVICES))
def test_dockerfile_builds_a_slim_non_root_health_checked_image(service: str) -> None:
    instructions = _instructions(ROOT / "services" / service / "Dockerfile")
    stages = _stages(instructions)
    assert len(stages) >= 2, "multi-stage: build tools stay out of the image"
    runtime = dict(stages[-1])
    assert "slim" in dict(instructions)["ARG"]
    user = runtime["USER"].split(":")[0]
    assert user not in {"0", "root"}
    assert "/healthz" in runtime["HEALTHCHECK"]
    port = validate_deploy.default_port(service)
    assert runtime["EXPOSE"] == str(port)
    assert f"PEERLOOP_HTTP_PORT={port}" in runtime["ENV"]
    assert "PEERLOOP_HTTP_HOST=0.0.0.0" in runtime["ENV"]
    assert not any(k == "COPY" and "--from" not in v for k, v in stages[-1]), (
        "the runtime stage takes only the built environment"
    )


@pytest.mark.parametrize("service", sorted(validate_deploy.SERVICES))
def test_image_runs_the_service_console_script(service: str) -> None:
    runtime = dict(_stages(_instructions(ROOT / "services" / service / "Dockerfile"))[-1])
    pyproject = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    assert json.loads(runtime["ENTRYPOINT"]) == [f"peerloop-{service}"]
    assert f"peerloop-{service}" in pyproject["project"]["scripts"]


@pytest.mark.parametrize("service", sorted(validate_deploy.SERVICES))
def test_image_installs_exactly_the_lock_with_the_pinned_uv(service: str) -> None:
    instructions = _instructions(ROOT / "services" / service / "Dockerfile")
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs
    assert all("--frozen --no-dev" in s and f"--package peerloop-{service}" in s for s in syncs)
    pinned = re.search(r"UV_VERSION=(\S+)", (ROOT / "scripts" / "bootstrap").read_text())
    assert pinned is not None
    assert any(f"uv=={pinned.group(1)}" in r for r in runs)

    copied = [
        args.split()[0]
        for keyword, args in instructions
        if keyword == "COPY" and "--from" not in args
    ]
    for source in copied:
        assert (ROOT / source).exists(), source
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    for member in workspace["members"]:
        assert f"{member}/pyproject.toml" in copied, (
            f"uv needs {member}'s manifest to read the lock"
        )


def test_dockerignore_sends_only_sources_and_manifests() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**", "ignore everything, then allow what the images need"
    allowed = [line[1:] for line in lines if line.startswith("!")]
    assert "uv.lock" in allowed
    assert not any(a.startswith((".venv", ".peerloop", "tests")) or "/tests" in a for a in allowed)
