"""Schemathesis against the live services: no 5xx, no response outside its schema.

Every operation of profiles, matching and notifications gets valid and invalid
requests generated from its OpenAPI document, sent with a real bearer token to the
services running as processes. Path parameters naming a person are the caller
(registered first), so the bodies reach the handlers rather than stopping at 403.
`PEERLOOP_FUZZ_EXAMPLES` sets the examples per operation and mode (default 30).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

import httpx
import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from peerloop_cli.identity import Tokens
from peerloop_cli.loop_client import PeerloopClient
from peerloop_cli.platform import Deployment
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("PEERLOOP_FUZZ_EXAMPLES", "30"))
SKIPPED_PATHS = ("/inbox/stream",)
"""An endless Server-Sent Events stream has no response to check."""


@dataclass
class Findings:
    requests: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    """operation and failure title -> first message"""


def fuzz_service(base_url: str, token: str, pinned: dict[str, str]) -> Findings:
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", headers=headers)
    findings = Findings()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith(SKIPPED_PATHS):
            continue
        names = {p.name for p in operation.path_parameters}
        fixed = {name: value for name, value in pinned.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(mode, path_parameters=fixed, headers=headers)

            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @given(strategy)
            def run(case: schemathesis.Case) -> None:
                findings.requests += 1
                try:
                    case.call_and_validate(
                        base_url=base_url,
                        session=session,
                        headers=headers,
                        checks=[not_a_server_error, response_schema_conformance],
                        timeout=30,
                    )
                except (Exception, BaseExceptionGroup) as exc:
                    label = f"{case.operation.method.upper()} {case.operation.path}"
                    key = f"{label}: {type(exc).__name__}"
                    findings.failures.setdefault(key, str(exc)[:600])

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters or body)
            except hypothesis.errors.FlakyStrategyDefinition:
                # Schemathesis's negative generator is not always replayable; the requests
                # sent before it stopped were checked.
                pass
    return findings


async def own_help_request(matching: str, tokens: Tokens, person: str) -> str:
    """A help request of the caller's, once matching has their profile (503 until then)."""
    body = {"skill": "fuzzing", "desired_level": 2, "task": "find the 500s"}
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(60):
            created = await http.post(
                f"{matching}/help-requests", json=body, auth=tokens.as_person(person)
            )
            if created.status_code != 503:
                assert created.status_code == 201, created.text
                return str(created.json()["request_id"])
            await asyncio.sleep(0.5)
    raise AssertionError("matching never received the caller's profile")


async def test_no_server_error_and_every_response_in_its_schema(
    deployment: Deployment, client: PeerloopClient, tokens: Tokens, run_id: str
) -> None:
    report: dict[str, Findings] = {}
    for service in ("profiles", "matching", "notifications"):
        # One caller per service: fuzzing profiles may erase its caller.
        person = f"fuzz-{service}-{run_id}"
        await client.register(person, "Fuzz Tester", "qa", "Europe/London")
        pinned = {"person_id": person}
        if service == "matching":
            pinned["request_id"] = await own_help_request(deployment.url(service), tokens, person)
        token = await tokens.for_person(person)
        report[service] = fuzz_service(deployment.url(service), token, pinned)
    summary = {name: (f.requests, len(f.failures)) for name, f in report.items()}
    print(f"schemathesis requests and failures per service: {summary}")
    failures = {
        f"{name} {key}": message
        for name, f in report.items()
        for key, message in f.failures.items()
    }
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert all(f.requests > 0 for f in report.values())
