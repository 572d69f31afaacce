import os
import subprocess
import sys
import time
import uuid

from peerloop_cli.infra.process import exec_pending, pids_with_args


def test_a_process_with_our_command_line_is_taken_as_not_yet_execd():
    assert exec_pending(os.getpid())


def _until_execd(pid: int) -> None:
    """A loaded machine may take a while between fork and exec: wait for it, up to 10 s."""
    deadline = time.monotonic() + 10
    while exec_pending(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_child_that_runs_its_own_program_is_not_pending():
    child = subprocess.Popen(["sleep", "5"])
    try:
        _until_execd(child.pid)
        assert not exec_pending(child.pid)
    finally:
        child.kill()
        child.wait()


def test_unknown_pid_is_not_pending():
    assert not exec_pending(2**22 + 12345) or sys.platform != "linux"


def test_processes_are_found_by_their_exact_arguments():
    marker = f"marker-{uuid.uuid4().hex}"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    other = subprocess.Popen(["sleep", "30"])
    try:
        _until_execd(child.pid)
        assert pids_with_args(marker.encode()) == [child.pid]
        assert pids_with_args(marker.encode(), b"31") == []
        assert pids_with_args(marker[:-1].encode()) == []
    finally:
        for proc in (child, other):
            proc.kill()
            proc.wait()
    assert pids_with_args(marker.encode()) == []
