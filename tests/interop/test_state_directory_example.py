"""The state-topic example builds the directory from the beginning, then follows it."""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_contracts.states import OfferState, PersonState
from peerloop_runtime.kafka import publish_entry
from peerloop_runtime.outbox import outbox_entry, tombstone_entry

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person_state_directory.py"


def _state(person_id: str, sequence: int, *skills: str) -> PersonState:
    return example_of(PersonState).model_copy(  # type: ignore[return-value]
        update={
            "person_id": person_id,
            "sequence": sequence,
            "offers": [
                OfferState(skill_id=s, skill_name=s, level=3, weekly_capacity=1) for s in skills
            ],
        }
    )


async def test_the_example_bootstraps_from_the_state_topic_then_follows_it(
    producer: KafkaBroker, kafka_bootstrap: str, run_id: str
) -> None:
    ada, bob = f"p-{run_id}-ada", f"p-{run_id}-bob"
    for entry in (
        outbox_entry(_state(ada, 2, "go")),
        outbox_entry(_state(ada, 4, "go", "sql")),
        outbox_entry(_state(ada, 3, "go")),  # arrives after a newer one: stale
        outbox_entry(_state(bob, 1, "rust")),
        tombstone_entry(PersonState, bob),  # bob was erased
    ):
        assert await publish_entry(producer, entry) is None

    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), "--bootstrap", kafka_bootstrap, "--exit-when-idle", "4",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(120):
            while not (line := (await process.stdout.readline()).decode()).startswith(
                "bootstrapped"
            ):
                assert line, "the example ended before its bootstrap"
                lines.append(line.strip())
            # Followed after the bootstrap: a change published now shows up too.
            assert await publish_entry(producer, outbox_entry(_state(ada, 5, "sql"))) is None
            rest, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
    # In order per person (one key, one partition); people on other partitions interleave.
    assert [line for line in lines if ada in line] == [
        f"person {ada} Ada Lovelace (billing) offers go 3 [sequence 2]",
        f"person {ada} Ada Lovelace (billing) offers go 3, sql 3 [sequence 4]",
        f"skipped stale {ada} sequence 3",
    ]
    assert [line for line in lines if bob in line] == [
        f"person {bob} Ada Lovelace (billing) offers rust 3 [sequence 1]",
        f"forgot {bob} (erased)",
    ]
    followed = [line for line in rest.decode().splitlines() if run_id in line]
    assert followed == [f"person {ada} Ada Lovelace (billing) offers sql 3 [sequence 5]"]
    assert process.returncode == 0


def test_the_example_needs_nothing_of_ours() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith("peerloop")}, imported
    assert {"aiokafka", "jsonschema"} <= imported
