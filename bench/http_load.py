"""HTTP: `POST /help-requests` under wrk; `GET /healthz` of the same process is the yardstick."""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.report import print_table, verdict

INSTALL_SCRIPT = Path(__file__).resolve().parent / "install_wrk.sh"
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["sh", str(INSTALL_SCRIPT)], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and bench/install_wrk.sh could not install it")
    return found


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNIT_MS[match.group(2)] if match else math.nan


def parse(output: str) -> dict[str, float]:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, flags=re.MULTILINE))
    return {
        "requests": float(total.group(1)) if total else math.nan,
        "requests_per_s": float(rate.group(1)) if rate else math.nan,
        "p50_ms": _ms(pct.get("50", "")),
        "p99_ms": _ms(pct.get("99", "")),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": float(sum(int(n) for n in socket_errors.groups()))
        if socket_errors
        else 0.0,
    }


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    body: dict[str, Any] | None,
    token: str | None = None,
) -> dict[str, Any]:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as scratch:
        # A generous timeout: a slow answer must count in the percentiles, not vanish.
        argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
        argv.append("--latency")
        if body is not None:
            script = Path(scratch) / "post.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(json.dumps(body))}\n"
                + (f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else "")
            )
            argv += ["-s", str(script)]
        done = subprocess.run([*argv, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-1000:]}")
    return {**parse(done.stdout), "wrk_output": done.stdout}


async def measure(
    matching_url: str,
    requester_token: str,
    skill: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
) -> dict[str, Any]:
    healthz = await asyncio.to_thread(
        run_wrk,
        f"{matching_url}/healthz",
        seconds=seconds,
        connections=connections,
        threads=threads,
        body=None,
    )
    post = await asyncio.to_thread(
        run_wrk,
        f"{matching_url}/help-requests",
        seconds=seconds,
        connections=connections,
        threads=threads,
        body={"skill": skill, "desired_level": 3, "task": "wrk"},
        token=requester_token,
    )
    print_table(
        f"HTTP: wrk, {threads} threads, {connections} connections, {seconds}s each",
        ["endpoint", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx", "socket errors"],
        [
            [
                "POST /help-requests",
                int(post["requests"]),
                post["requests_per_s"],
                post["p50_ms"],
                post["p99_ms"],
                int(post["non_2xx"]),
                int(post["socket_errors"]),
            ],
            [
                "GET /healthz (yardstick)",
                int(healthz["requests"]),
                healthz["requests_per_s"],
                healthz["p50_ms"],
                healthz["p99_ms"],
                int(healthz["non_2xx"]),
                int(healthz["socket_errors"]),
            ],
        ],
    )
    ratio = post["requests_per_s"] / healthz["requests_per_s"]
    line = verdict("HTTP POST req/s ÷ /healthz req/s", ratio, "none set; for comparison", None)
    return {"post": post, "healthz": healthz, "ratio": ratio, "verdict": line}
