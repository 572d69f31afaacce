"""The local store is always stopped, even when its pid file was lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from peerloop_cli.infra import mongo_java_server as store
from peerloop_cli.infra.process import free_port, pid_alive, port_open


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> store.StoreSettings:
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_MONGO_PORT", str(free_port()))
    return store.StoreSettings.from_env()


def test_a_server_whose_pid_file_was_lost_is_still_stopped(
    own_home: store.StoreSettings,
) -> None:
    pid = store.start(own_home)
    try:
        store.wait_ready(own_home)
        store.LocalStore(own_home).process.pid_file.unlink()

        assert store.status(own_home).pid == pid
        assert store.stop(own_home)
        assert not pid_alive(pid)
        assert not port_open(own_home.host, own_home.port)
    finally:
        if pid_alive(pid):
            store.LocalStore(own_home).process.pid_file.write_text(str(pid))
            store.stop(own_home)


def test_start_adopts_a_running_server_instead_of_failing_on_its_port(
    own_home: store.StoreSettings,
) -> None:
    pid = store.start(own_home)
    try:
        store.LocalStore(own_home).process.pid_file.unlink()
        assert store.start(own_home) == pid
    finally:
        store.stop(own_home)
    assert not pid_alive(pid)
