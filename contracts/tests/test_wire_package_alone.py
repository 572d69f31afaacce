"""An outside subscriber installs the wire models alone: no Kafka client, no store, no web stack.

The package is installed from its own manifest into an empty virtual environment, every
module is imported, and none of the service runtime's libraries may be there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[1]
RUNTIME_ONLY = (
    "faststream",
    "aiokafka",
    "pymongo",
    "fastapi",
    "prometheus_client",
    "opentelemetry",
)
# Generates the AsyncAPI documents from the services themselves: a tool of this repository,
# run inside the workspace, not something a subscriber imports.
WORKSPACE_TOOLS = (
    "peerloop_contracts.schema_tools.asyncapi",
    "peerloop_contracts.schema_tools.__main__",
)

IMPORT_ALL = f"""
import importlib, pkgutil, sys
import peerloop_contracts
skip = {WORKSPACE_TOOLS!r}
names = [m.name for m in pkgutil.walk_packages(peerloop_contracts.__path__, "peerloop_contracts.")]
for name in names:
    if name not in skip:
        importlib.import_module(name)
loaded = sorted({{k.split(".")[0] for k in sys.modules}} & set({RUNTIME_ONLY!r}))
print(len(names), ",".join(loaded))
"""


def _uv() -> Path:
    cache = os.environ.get("PEERLOOP_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peerloop"
    )
    return Path(cache) / "tools" / "bin" / "uv"


def test_the_wire_models_install_and_import_without_the_runtime(tmp_path: Path) -> None:
    uv = _uv()
    assert uv.exists(), f"{uv} missing: ./scripts/bootstrap installs it"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    venv = tmp_path / "subscriber"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, venv], check=True, env=env)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "-q", "--python", python, CONTRACTS], check=True, env=env)

    installed = subprocess.run(
        [uv, "pip", "freeze", "--python", python],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.lower()
    assert not [lib for lib in ("faststream", "aiokafka", "pymongo", "fastapi") if lib in installed]

    out = subprocess.run(
        [python, "-c", IMPORT_ALL], check=True, capture_output=True, text=True
    ).stdout.split()
    assert int(out[0]) > 10, "the package's modules were not found"
    assert out[1:] == [], f"the wire models pulled in {out[1:]}"
