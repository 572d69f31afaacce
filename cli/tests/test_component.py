"""The shared shape of the local servers, on a real short-lived process."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from peerloop_cli.infra.component import LocalComponent
from peerloop_cli.infra.process import InfraError, exec_pending, free_port, pid_alive


class Sleeper(LocalComponent):
    """A component whose server is `python -c 'import time; time.sleep(60)' <marker>`."""

    poll_interval = 0.05

    def __init__(self, marker: str, port: int) -> None:
        self.marker = marker
        self.port = port
        self.ready = False
        self.prepared = 0

    @property
    def name(self) -> str:
        return "sleeper"

    @property
    def what(self) -> str:
        return "the sleeper"

    @property
    def ports(self) -> tuple[tuple[int, str], ...]:
        return ((self.port, "SLEEPER_PORT"),)

    def signature(self) -> tuple[bytes, ...]:
        return b"import time; time.sleep(60)", self.marker.encode()

    def prepare_command(self) -> list[str]:
        self.prepared += 1
        return [sys.executable, "-c", "import time; time.sleep(60)", self.marker]

    def probe(self, within_s: float) -> str | None:
        return None if self.ready else "not ready yet"


@pytest.fixture
def sleeper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sleeper]:
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path))
    component = Sleeper(f"marker-{uuid.uuid4().hex}", free_port())
    yield component
    component.stop(grace_seconds=2)


def _execd(pid: int) -> None:
    for _ in range(200):
        if not exec_pending(pid):
            return
        time.sleep(0.01)


def test_start_writes_the_pid_file_and_a_second_start_starts_nothing(sleeper: Sleeper) -> None:
    pid = sleeper.start()
    assert sleeper.process.pid_file.read_text().strip() == str(pid)
    assert (sleeper.dir / "last_pid").read_text().strip() == str(pid)
    assert sleeper.start() == pid
    assert sleeper.prepared == 1
    sleeper.ready = True
    assert sleeper.state().state == "running"


def test_a_stray_of_ours_without_pid_file_is_adopted_not_duplicated(sleeper: Sleeper) -> None:
    pid = sleeper.start()
    _execd(pid)
    sleeper.process.pid_file.unlink()

    assert sleeper.running_pid() == pid
    assert sleeper.process.pid_file.read_text().strip() == str(pid)
    sleeper.process.pid_file.unlink()
    assert sleeper.start() == pid
    assert sleeper.prepared == 1
    assert sleeper.stop(grace_seconds=2)
    assert not pid_alive(pid)


def test_a_pid_file_naming_another_program_is_dropped(sleeper: Sleeper) -> None:
    sleeper.process.pid_file.write_text("1")  # alive, but not ours
    assert sleeper.running_pid() is None
    assert not sleeper.process.pid_file.exists()
    assert sleeper.state().state == "stopped"
    assert not sleeper.stop()


def test_stop_ends_ours_and_removes_the_pid_file(sleeper: Sleeper) -> None:
    pid = sleeper.start()
    assert sleeper.stop(grace_seconds=2)
    assert not pid_alive(pid)
    assert not sleeper.process.pid_file.exists()
    assert sleeper.state().state == "stopped"


def test_state_says_starting_until_it_serves(sleeper: Sleeper) -> None:
    sleeper.start()
    assert sleeper.state().state == "starting"
    sleeper.ready = True
    assert sleeper.state().state == "running"


def test_wait_ready_returns_once_the_probe_passes(sleeper: Sleeper) -> None:
    sleeper.start()
    sleeper.ready = True
    assert sleeper.wait_ready(timeout=5) < 5


def test_wait_ready_times_out_with_the_last_problem(sleeper: Sleeper) -> None:
    sleeper.start()
    with pytest.raises(InfraError, match=r"not ready after 0s.*not ready yet"):
        sleeper.wait_ready(timeout=0.3)


def test_wait_ready_fails_at_once_when_ours_is_gone(sleeper: Sleeper) -> None:
    began = time.monotonic()
    with pytest.raises(InfraError, match="the sleeper is not running"):
        sleeper.wait_ready(timeout=30)
    assert time.monotonic() - began < 5


def test_log_tail_shows_only_the_latest_start(sleeper: Sleeper) -> None:
    sleeper.process.log_file.write_text("an old failure\n")
    sleeper.start()
    tail = sleeper.log_tail()
    assert sleeper.start_mark in tail
    assert "an old failure" not in tail
