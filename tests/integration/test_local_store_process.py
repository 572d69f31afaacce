"""The local FerretDB is always stopped, even when its pid file was lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from peerloop_cli.infra import ferretdb
from peerloop_cli.infra.process import InfraError, free_port, pid_alive, port_open


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ferretdb.FerretSettings:
    try:
        ferretdb.ensure_binary()
    except InfraError as exc:  # no Go toolchain where the store is external (testcontainers)
        pytest.skip(f"no local FerretDB binary: {exc}")
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_MONGO_PORT", str(free_port()))
    return ferretdb.FerretSettings.from_env()


def test_a_server_whose_pid_file_was_lost_is_still_stopped(
    own_home: ferretdb.FerretSettings,
) -> None:
    pid = ferretdb.start(own_home)
    try:
        ferretdb.wait_ready(own_home)
        ferretdb._process().pid_file.unlink()

        assert ferretdb.status(own_home).pid == pid
        assert ferretdb.stop(own_home)
        assert not pid_alive(pid)
        assert not port_open(own_home.host, own_home.port)
    finally:
        if pid_alive(pid):
            ferretdb._process().pid_file.write_text(str(pid))
            ferretdb.stop(own_home)


def test_start_adopts_a_running_server_instead_of_failing_on_its_port(
    own_home: ferretdb.FerretSettings,
) -> None:
    pid = ferretdb.start(own_home)
    try:
        ferretdb._process().pid_file.unlink()
        assert ferretdb.start(own_home) == pid
    finally:
        ferretdb.stop(own_home)
    assert not pid_alive(pid)
