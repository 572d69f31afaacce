"""Tables, verdicts and the JSON results file shared by every benchmark."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no samples so a broken run cannot look fast."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 0.01 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    print(f"\n== {title}")
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def print_profile(service: str, profile: dict[str, list[tuple[str, float]]]) -> None:
    for title, key, count in (
        ("doing", "activity", 8),
        ("in library", "library", 8),
        ("hottest leaf", "self", 6),
    ):
        items = ", ".join(f"{name} {share:.0%}" for name, share in profile.get(key, [])[:count])
        print(f"  {service} profile, {title}: {items}")


def verdict(name: str, ratio: float | str, goal: str, met: bool | None) -> str:
    """One line: the measured figure beside its goal. A string is printed as the figure itself."""
    status = "n/a" if met is None else ("MET" if met else "NOT MET")
    figure = ratio if isinstance(ratio, str) else f"ratio {fmt(ratio)}"
    line = f"verdict {name}: {figure} (goal {goal}) → {status}"
    print(line, flush=True)
    return line


@dataclass
class Results:
    """Everything one invocation measured, written as one JSON file for comparing runs."""

    started: float = field(default_factory=time.time)
    sections: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, data: dict[str, Any]) -> None:
        self.sections[name] = data

    def write(self, directory: Path = RESULTS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.started))
        path = directory / f"bench-{stamp}.json"
        document = {
            "started_at": stamp,
            "host": {"cpus": _cpus(), "python": platform.python_version(), "commit": _commit()},
            "sections": self.sections,
        }
        path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n")
        return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return out.stdout.strip()
