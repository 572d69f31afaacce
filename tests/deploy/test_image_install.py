"""The Dockerfiles' build steps, run without Docker, give a service that starts and is healthy.

No Docker engine here, so the build stage is executed the way `docker build` would:
the build context filtered by .dockerignore, then the stage's WORKDIR / ENV / COPY /
RUN instructions in order, with the image's /opt/peerloop remapped to a temporary
directory. The installed console script is then started like the container's
ENTRYPOINT, on the real Kafka and store, and must answer /healthz and /readyz and
stop cleanly on SIGTERM.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path
from typing import IO

import pytest
import validate_deploy
from peerloop_cli.identity import IdentityProvider
from peerloop_cli.infra.paths import cache_dir
from peerloop_cli.infra.process import free_port
from peerloop_cli.testing.waiting import answers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IMAGE_VENV = "/opt/peerloop"


def _uv() -> str | None:
    """The uv scripts/bootstrap installed (the version the image pins), else one on PATH."""
    pinned = cache_dir() / "tools" / "bin" / "uv"
    return str(pinned) if pinned.is_file() else shutil.which("uv")


def _context(target: Path) -> Path:
    """The files `docker build .` would send, per .dockerignore (`**`, then `!` allow rules)."""
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    allowed = [r[1:].rstrip("/") for r in rules if r.startswith("!")]
    excluded = [r.rstrip("/").removeprefix("**/") for r in rules[1:] if not r.startswith("!")]
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if not path.is_file() or any(
            fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in excluded
        ):
            continue
        if any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*")
            for pattern in allowed
        ) and not relative.startswith((".venv/", ".git/")):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    return target


def _build_stage(service: str, tmp_path: Path) -> Path:
    """Run the Dockerfile's first stage; return the environment it built."""
    context = _context(tmp_path / "context")
    venv = tmp_path / "image-venv"
    text = (ROOT / "services" / service / "Dockerfile").read_text().replace("\\\n", " ")
    workdir = tmp_path / "root"
    uv = _uv()
    assert uv is not None
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": f"{Path(uv).parent}:{os.environ['PATH']}",
    }
    stage = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        args = args.replace(IMAGE_VENV, str(venv))
        if keyword == "FROM":
            stage += 1
            if stage > 1:
                break
        elif keyword == "WORKDIR":
            workdir = tmp_path / "root" / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            env.update(dict(item.split("=", 1) for item in shlex.split(args)))
        elif keyword == "COPY":
            *sources, dest = shlex.split(args)
            for source in sources:
                src, dst = context / source, workdir / dest
                if src.is_dir():
                    shutil.copytree(src, dst, dirs_exist_ok=True)
                elif dest.endswith("/"):
                    dst.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst / src.name)
                else:
                    shutil.copy2(src, dst)
        elif keyword == "RUN" and not args.startswith("pip install"):
            # The image pins uv with pip; here the same pinned uv is on PATH already.
            subprocess.run(
                ["bash", "-c", args + " --python " + shlex.quote(_python())],
                cwd=workdir,
                env=env,
                check=True,
                timeout=400,
            )
    return venv


def _python() -> str:
    found = shutil.which("python3.11") or shutil.which("python3")
    assert found
    return found


def _start(entrypoint: Path, log: IO[bytes], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Like the container's ENTRYPOINT: the console script alone, configured by env."""
    return subprocess.Popen([str(entrypoint)], env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.skipif(_uv() is None, reason="run scripts/bootstrap first: it installs uv")
@pytest.mark.parametrize("service", sorted(validate_deploy.SERVICES))
async def test_built_image_environment_runs_a_healthy_service(
    service: str,
    tmp_path: Path,
    kafka_bootstrap: str,
    mongodb_uri: str,
    mongo_db_name: str,
    run_id: str,
    identity: IdentityProvider,
) -> None:
    venv = _build_stage(service, tmp_path)
    entrypoint = venv / "bin" / f"peerloop-{service}"
    assert entrypoint.is_file()
    assert not list(venv.rglob("*.egg-link")) and not list(venv.rglob("__editable__*")), (
        "the runtime stage copies only /opt/peerloop: nothing may point back into /src"
    )

    port = free_port()
    log = (tmp_path / "service.log").open("wb")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PEERLOOP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "PEERLOOP_MONGODB_URI": mongodb_uri,
        "PEERLOOP_DATABASE": mongo_db_name,
        "PEERLOOP_CONSUMER_GROUP": f"test-image-{service}-{run_id}",
        "PEERLOOP_HTTP_HOST": "127.0.0.1",
        "PEERLOOP_HTTP_PORT": str(port),
        "PEERLOOP_SHUTDOWN_GRACE_SECONDS": "10",
        "PEERLOOP_AUTH__ISSUER": identity.issuer,
        "PEERLOOP_AUTH__AUDIENCE": identity.audience,
        # As a deployment does (no dev mode): notifications refuses to start without one.
        "PEERLOOP_WEBHOOK_SECRET": "image-test-webhook-key-0123456789abcdef",
        # Nor does the chat app without its Slack signing secret and its own client secret.
        "PEERLOOP_SLACK_SIGNING_SECRET": "image-test-slack-signing-secret-0123",
        "PEERLOOP_CLIENT_SECRET": "image-test-chat-client-secret",
    }
    process = _start(entrypoint, log, env)
    try:
        await answers(f"http://127.0.0.1:{port}/healthz", alive=lambda: process.poll() is None)
        await answers(f"http://127.0.0.1:{port}/readyz", alive=lambda: process.poll() is None)
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down, as a container runtime expects.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in (tmp_path / "service.log").read_text()
    except BaseException:
        print((tmp_path / "service.log").read_text()[-4000:])
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
