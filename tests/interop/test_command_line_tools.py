"""Our events read by tools we did not write: `kcat` and Kafka's own console consumer."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from peerloop_cli.infra import kafka as local_kafka
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.profiles import SkillOffered
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_runtime.outbox import outbox_entry

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# The same format the subscriber guide (contracts/README.md) shows.
KCAT_FORMAT = "key=%k partition=%p offset=%o\\nheaders=%h\\n%s\\n"


@pytest.fixture(scope="module")
def kcat() -> str:
    if shutil.which("kcat") is None:
        installed = subprocess.run(
            [str(REPO / "scripts" / "install-system-tools")], capture_output=True, text=True
        )
        if shutil.which("kcat") is None:
            pytest.skip(f"kcat cannot be installed here: {installed.stderr.strip()}")
    path = shutil.which("kcat")
    assert path is not None
    return path


async def _run(*argv: str, timeout: float = 120) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, f"{argv[0]} exited {process.returncode}: {err.decode()}"
    return out.decode()


async def test_kcat_shows_key_cloudevents_headers_and_value(kcat, kafka_bootstrap, publish, run_id):
    event = example_of(SessionCompleted).model_copy(update={"request_id": f"r-{run_id}"})
    entry = outbox_entry(event)
    placed = await publish(entry)

    out = await _run(
        kcat, "-C", "-b", kafka_bootstrap, "-t", placed.topic,
        "-p", str(placed.partition), "-o", str(placed.offset), "-c", "1", "-e",
        "-f", KCAT_FORMAT.replace("\\n", "\n"),
    )  # fmt: skip

    first, headers_line, value = out.strip("\n").split("\n", 2)
    assert first == f"key=r-{run_id} partition={placed.partition} offset={placed.offset}"
    headers = dict(h.split("=", 1) for h in headers_line.removeprefix("headers=").split(","))
    assert headers["ce_type"] == "io.peerloop.session-completed.v1"
    assert headers["ce_source"] == "peerloop/matching"
    assert headers["ce_id"] == entry.id
    assert headers["ce_subject"] == f"r-{run_id}"
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert SessionCompleted.decode(value) == event


async def test_kafkas_console_consumer_prints_key_headers_and_value(
    kafka_bootstrap, publish, run_id
):
    event = example_of(SkillOffered).model_copy(update={"person_id": f"p-{run_id}"})
    entry = outbox_entry(event)
    placed = await publish(entry)
    libs = await asyncio.to_thread(local_kafka.ensure_jars)
    java = local_kafka.java_binary()

    out = await _run(
        java, "-Xmx256m", "-cp", f"{libs}{os.sep}*",
        f"-Dlog4j2.configurationFile={local_kafka.log4j_config_file()}",
        f"-Dkafka.logs.dir={tempfile.gettempdir()}",  # not the working directory
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", kafka_bootstrap, "--topic", placed.topic,
        "--partition", str(placed.partition), "--offset", str(placed.offset),
        "--max-messages", "1", "--timeout-ms", "60000",
        "--formatter-property", "print.key=true",
        "--formatter-property", "print.headers=true",
        "--formatter-property", "headers.separator=|",
        "--formatter-property", "key.separator=\t",
    )  # fmt: skip

    line = next(line for line in out.splitlines() if f"p-{run_id}" in line)
    headers_text, key, value = line.split("\t", 2)
    headers = dict(h.split(":", 1) for h in headers_text.split("|"))
    assert key == f"p-{run_id}"
    assert headers["ce_type"] == "io.peerloop.skill-offered.v1"
    assert headers["ce_id"] == entry.id
    assert headers["ce_subject"] == f"p-{run_id}"
    assert SkillOffered.decode(value) == event
    assert json.loads(value)["skill_id"] == "mongodb"
