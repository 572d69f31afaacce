"""`python -m peerloop_contracts.schema_tools write|check`.

write  regenerate contracts/schemas (archiving compatible revisions) and contracts/asyncapi
check  exit 1 on drift, on a break between revisions, or on a published event with no model
"""

from __future__ import annotations

import argparse
import sys

from peerloop_contracts.catalogue import ALL_EVENTS
from peerloop_contracts.schema_tools import (
    ASYNCAPI_DIR,
    REGENERATE_COMMAND,
    SCHEMAS_DIR,
    asyncapi,
    json_schemas,
)

_V2_ADVICE = (
    "A breaking change needs a new event version: a model with `version = 2` (its own "
    "type and topic, declared in deploy/topics.yaml), published beside v1 until every "
    "subscriber has moved."
)


def write() -> int:
    report = json_schemas.write_schemas(SCHEMAS_DIR, ALL_EVENTS)
    for name in report.written:
        print(f"wrote contracts/schemas/{name}")
    for label in report.archived:
        print(f"archived {label} in its history/ folder")
    for name in asyncapi.write_documents(ASYNCAPI_DIR):
        print(f"wrote contracts/asyncapi/{name}")
    if report.refused:
        for label, problems in report.refused.items():
            print(f"refused {label}: the change breaks subscribers", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        print(_V2_ADVICE, file=sys.stderr)
        return 1
    print("schemas and AsyncAPI documents are up to date")
    return 0


def check() -> int:
    failures: list[str] = []
    drifted = json_schemas.drifted_schemas(SCHEMAS_DIR, ALL_EVENTS)
    if drifted:
        failures.append(json_schemas.drift_message(drifted))
    for event in ALL_EVENTS:
        failures += json_schemas.gate_problems(SCHEMAS_DIR, event)
    failures += [
        f"{orphan} is published but has no model any more"
        for orphan in json_schemas.orphaned_schemas(SCHEMAS_DIR, ALL_EVENTS)
    ]
    stale_docs = asyncapi.drifted_documents(ASYNCAPI_DIR)
    if stale_docs:
        failures.append(
            f"contracts/asyncapi/{', '.join(stale_docs)} differ from the services: "
            f"run `{REGENERATE_COMMAND}`"
        )
    for failure in failures:
        print(failure, file=sys.stderr)
    if not failures:
        print("schemas, their history and the AsyncAPI documents match the models")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peerloop_contracts.schema_tools")
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    return write() if args.command == "write" else check()


if __name__ == "__main__":
    sys.exit(main())
