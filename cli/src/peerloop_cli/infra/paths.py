"""Where local state and downloads live.

State (data, logs, pid files) lives under one directory the user may delete,
`$PEERLOOP_HOME` or `<repo>/.peerloop`. Downloads (the Kafka and store jars, the store's compiled
launcher) are cached outside the tracked files in `$PEERLOOP_CACHE` or
`~/.cache/peerloop`, so a fresh clone on the same machine reuses them.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package was installed from (editable install)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "topics.yaml").exists():
            return parent
    return Path.cwd()


def state_dir() -> Path:
    path = Path(os.environ.get("PEERLOOP_HOME", repo_root() / ".peerloop"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "peerloop"
    path = Path(os.environ.get("PEERLOOP_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def component_dir(name: str) -> Path:
    path = state_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def topics_file() -> Path:
    """The one declared topic list (`deploy/topics.yaml`)."""
    return repo_root() / "deploy" / "topics.yaml"
