"""The subscriber guide's plain-aiokafka example runs as written and dedupes as it says."""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path

import pytest
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_runtime.outbox import outbox_entry

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "session_completed_subscriber.py"


def test_the_example_needs_nothing_of_ours():
    tree = ast.parse(EXAMPLE.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert not {name for name in imported if name.startswith("peerloop")}, imported
    assert {"aiokafka", "jsonschema"} <= imported


async def test_example_prints_events_once_skipping_duplicates_and_stale_ones(
    kafka_bootstrap, publish, run_id
):
    request = f"r-{run_id}"
    newer = example_of(SessionCompleted).model_copy(
        update={"request_id": request, "session_id": f"s-{run_id}", "sequence": 6}
    )
    older = newer.model_copy(update={"sequence": 5})
    entry = outbox_entry(newer)
    await publish(entry)
    await publish(entry)  # a relay re-publish after a crash: same ce_id
    await publish(outbox_entry(older))  # arrives after a newer one for the same key
    forged = outbox_entry(
        newer.model_copy(update={"session_id": f"forged-{run_id}", "sequence": 7})
    )
    # Not from matching, the owner of session-completed: refused, however well-formed.
    await publish(forged.model_copy(update={"headers": {**forged.headers, "ce_source": "evil"}}))

    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE),
        "--bootstrap", kafka_bootstrap,
        "--group", f"example-{run_id}",
        "--exit-when-idle", "4",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()

    handled = [line for line in lines if f"session s-{run_id}" in line]
    assert handled == [
        f"learner p-42 learned mongodb (level 3) from p-17 in session s-{run_id} "
        f"[{request} sequence 6, ce_id {entry.id}]"
    ]
    assert f"skipped duplicate peerloop/matching {entry.id}" in lines
    assert f"skipped stale {request} sequence 5" in lines
    assert f"rejected {forged.id}: ce_source 'evil' is not the owner 'peerloop/matching'" in lines
    assert not [line for line in lines if f"forged-{run_id}" in line]
    assert not [line for line in lines if line.startswith("rejected") and entry.id in line]
