"""Sampling profiles of live service processes with py-spy (run through `uvx`, not a dependency)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


def py_spy_argv() -> list[str] | None:
    if found := shutil.which("py-spy"):
        return [found]
    if uvx := shutil.which("uvx"):
        return [uvx, "py-spy"]
    return None


@dataclass
class Recording:
    service: str
    output: Path
    process: subprocess.Popen[bytes]

    def finish(self) -> dict[str, list[tuple[str, float]]]:
        """Stop sampling now (py-spy writes its output on SIGINT) and summarise."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        return summarise(self.output)


def record(service: str, pid: int, directory: Path, seconds: int = 600) -> Recording | None:
    """Sample `pid` until `finish` (at most `seconds`); stacks go to `<directory>/<service>.txt`."""
    argv = py_spy_argv()
    if argv is None:
        print("  (py-spy not available: install uv or py-spy to profile)")
        return None
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{service}.txt"
    process = subprocess.Popen(
        [
            *argv,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Recording(service, output, process)


def summarise(collapsed: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """Share of busy samples by activity (what the process did), by library and by leaf."""
    leaf: Counter[str] = Counter()
    library: Counter[str] = Counter()
    activity: Counter[str] = Counter()
    total = 0
    lines = collapsed.read_text().splitlines() if collapsed.is_file() else []
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames[-1].split(" (", 1)[0] in IDLE:
            continue
        total += count
        leaf[_short(frames[-1])] += count
        library[_module_root(frames[-1])] += count
        activity[next((name for marker, name in ACTIVITIES if marker in stack), "other")] += count
    if total == 0:
        return {"activity": [], "library": [], "self": []}
    return {
        "activity": [(name, n / total) for name, n in activity.most_common()],
        "library": [(name, n / total) for name, n in library.most_common(top)],
        "self": [(name, n / total) for name, n in leaf.most_common(top)],
    }


def consume_share(profile: dict[str, list[tuple[str, float]]]) -> float:
    """Share of busy samples on the consume path: fetch, framework, handlers, commit."""
    return sum(s for name, s in profile.get("activity", []) if name in CONSUME_PATH)


HANDLERS = "consume: handlers"
FRAMEWORK = "consume: faststream + commit"
FETCH = "consume: aiokafka fetch"
CONSUME_PATH = frozenset({HANDLERS, FRAMEWORK, FETCH})
IDLE = frozenset({"EpollSelector.select", "Condition.wait", "Queue.get", "_worker"})
"""Leaves where a thread waits: py-spy cannot always tell them idle when not pausing it."""
ACTIVITIES = (
    ("EventConsumer._consume", HANDLERS),
    ("faststream/kafka/subscriber", FRAMEWORK),
    ("aiokafka/consumer", FETCH),
    ("OutboxRelay", "outbox relay"),
    ("DeliveryWorker", "delivery worker"),
    ("health_router.<locals>.metrics", "/metrics scrapes"),
    ("RequestResponseCycle.run_asgi", "HTTP requests"),
    ("aiokafka/producer", "kafka producing"),
)
"""Markers on a stack, first match wins: a handler's own publishes count as the handler's."""


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" → "function (module.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


def _module_root(frame: str) -> str:
    where = frame.partition(" (")[2].rsplit(":", 1)[0]
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    root = where.split("/", 1)[0] if "/" in where else where
    return root.removesuffix(".py") or "?"
