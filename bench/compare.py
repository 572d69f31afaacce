"""Two result files side by side: `python -m bench.compare OLD.json NEW.json`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.report import print_table

INTERESTING = ("ratio", "per_s", "p50", "p95", "p99", "ms_per_event", "cpu_s_per_flow")


def numbers(node: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict) and "size" in value:
                yield from numbers(value, f"{prefix}[{int(value['size']):,}]")
    elif (
        isinstance(node, int | float)
        and not isinstance(node, bool)
        and any(word in prefix for word in INTERESTING)
        and "profile" not in prefix
    ):
        yield prefix, float(node)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    old = dict(numbers(json.loads(args.old.read_text())["sections"]))
    new = dict(numbers(json.loads(args.new.read_text())["sections"]))
    rows = [
        [key, old[key], new[key], f"{(new[key] / old[key] - 1) * 100:+.0f}%" if old[key] else ""]
        for key in old
        if key in new
    ]
    print_table(f"{args.old.name} → {args.new.name}", ["measure", "old", "new", "change"], rows)


if __name__ == "__main__":
    main()
