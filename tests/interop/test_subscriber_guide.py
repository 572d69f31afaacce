"""The subscriber guide's (contracts/README.md) examples run as written against the broker."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from peerloop_cli.infra import kafka as local_kafka
from peerloop_contracts.catalogue import ALL_EVENTS
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.profiles import SkillOffered
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_contracts.states import PersonState
from peerloop_runtime.kafka import publish_entry
from peerloop_runtime.outbox import outbox_entry, tombstone_entry

pytestmark = pytest.mark.integration

GUIDE = Path(__file__).resolve().parents[2] / "contracts" / "README.md"
GUIDE_BOOTSTRAP = "127.0.0.1:9092"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def test_the_guide_lists_every_topic_and_its_key():
    text = GUIDE.read_text()
    for event in ALL_EVENTS:
        assert f"| `{event.topic()}` | `{event.aggregate}` |" in text, event.topic()


async def _published_session(publish, run_id):
    event = example_of(SessionCompleted).model_copy(
        update={"request_id": f"r-{run_id}", "learner_id": f"p-{run_id}"}
    )
    entry = outbox_entry(event)
    await publish(entry)
    return entry


async def test_the_guides_kcat_command_shows_the_event(kafka_bootstrap, publish, run_id):
    (command,) = [b for b in _blocks("bash") if b.startswith("kcat -C")]
    entry = await _published_session(publish, run_id)

    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command.replace(GUIDE_BOOTSTRAP, kafka_bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert f"ce_id={entry.id}" in text
    assert f"key=r-{run_id} partition=" in text
    assert f'"learner_id":"p-{run_id}"' in text


async def test_the_guides_python_consumer_prints_the_event(kafka_bootstrap, publish, run_id):
    (program,) = _blocks("python")
    entry = await _published_session(publish, run_id)
    program = program.replace(GUIDE_BOOTSTRAP, kafka_bootstrap).replace(
        '"lms-credits"', f'"guide-{run_id}"'
    )

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        wanted = f"p-{run_id} learned mongodb from p-17"
        async with asyncio.timeout(120):
            while (line := (await process.stdout.readline()).decode()) and wanted not in line:
                pass
        assert wanted in line, f"the guide's consumer ended early (event {entry.id})"
    finally:
        process.terminate()
        await process.wait()


async def test_the_guides_console_consumer_command_shows_the_event(
    kafka_bootstrap, publish, run_id
):
    (command,) = [b for b in _blocks("bash") if "ConsoleConsumer" in b]
    event = example_of(SkillOffered).model_copy(update={"person_id": f"p-{run_id}"})
    entry = outbox_entry(event)
    await publish(entry)
    libs = await asyncio.to_thread(local_kafka.ensure_jars)
    command = command.replace("$HOME/.cache/peerloop/kafka-4.4.0/libs", str(libs))

    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command.replace(GUIDE_BOOTSTRAP, kafka_bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 180)

    line = next((x for x in out.decode().splitlines() if f"ce_id:{entry.id}" in x), None)
    assert line is not None, f"the console consumer did not show event {entry.id}"
    assert f"\tp-{run_id}\t" in line


async def test_the_guides_state_topic_kcat_command_shows_states_and_tombstones(
    kafka_bootstrap, producer, run_id
):
    (command,) = [b for b in _blocks("bash") if "person-state" in b and b.startswith("kcat")]
    key = f"p-{run_id}"
    state = example_of(PersonState).model_copy(update={"person_id": key})
    for entry in (outbox_entry(state), tombstone_entry(PersonState, key)):
        assert await publish_entry(producer, entry) is None

    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command.replace(GUIDE_BOOTSTRAP, kafka_bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, err.decode()
    ours = [line for line in out.decode().splitlines() if line.startswith(f"key={key} ")]
    assert len(ours) == 2
    assert f'"person_id":"{key}"' in ours[0]
    assert ours[1] == f"key={key} "  # the tombstone: no value
