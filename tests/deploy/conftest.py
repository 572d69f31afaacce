"""The deploy scripts live in deploy/, outside any package: make them importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

import validate_deploy  # noqa: E402


@pytest.fixture(scope="session")
def kustomize() -> Path:
    """The pinned kustomize; built from its Go module on first use."""
    return validate_deploy.kustomize_binary()


@pytest.fixture(scope="session")
def rendered(kustomize: Path) -> dict[str, list[dict]]:
    """Every kustomization (base and overlays), rendered once: relative path -> documents."""
    return {
        str(directory.relative_to(ROOT)): validate_deploy.render(kustomize, directory)
        for directory in validate_deploy.kustomizations()
    }
