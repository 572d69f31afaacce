"""What the local JVM servers (Kafka, the store) share: Java itself and jars from Maven.

A component lists its runtime jars in a pom under `deploy/local/<component>/`;
`fetch_jars` copies them once into `<cache>/<component>-<version>/libs` and marks
the directory complete with the pom's digest, so a changed pom fetches again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from peerloop_cli.infra.paths import cache_dir
from peerloop_cli.infra.process import InfraError

MIN_JAVA = 17
_DOWNLOAD_TIMEOUT_S = 900.0


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive lock across processes (parallel test workers, two `peerloop` commands)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def java_binary(tool: str = "java") -> str:
    """`$JAVA_HOME/bin/<tool>` or `<tool>` on PATH, checked to be Java 17 or newer.

    `tool` is `java` to run a server or `javac` to compile a launcher.
    """
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / tool) if java_home else shutil.which(tool)
    if not candidate or not Path(candidate).exists():
        package = "openjdk-17-jdk-headless" if tool == "javac" else "openjdk-17-jre-headless"
        raise InfraError(
            f"Java {MIN_JAVA}+ (`{tool}`) is needed for the local Kafka broker and store but "
            "was not found (JAVA_HOME unset and nothing on PATH). Install a JDK 17 "
            f"(Debian/Ubuntu: `sudo apt-get install {package}`, "
            "macOS: `brew install openjdk@17`) and run the command again."
        )
    try:
        probe = subprocess.run(  # noqa: S603 - fixed argv
            [candidate, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfraError(f"could not run `{candidate} -version`: {exc}") from exc
    match = re.search(r'(?:version "|javac )(\d+)(?:\.(\d+))?', probe.stderr + probe.stdout)
    if match is None:
        raise InfraError(f"could not tell the Java version of {candidate}:\n{probe.stderr}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392"
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise InfraError(
            f"{candidate} is Java {major}; the local servers need Java {MIN_JAVA} or "
            "newer. Install a JDK 17 and point JAVA_HOME at it."
        )
    return candidate


def fetch_jars(pom: Path, libs: Path, *, what: str, complete: Callable[[set[str]], bool]) -> Path:
    """The directory `libs` holding the runtime jars `pom` lists, fetched by Maven on first use.

    `complete` checks the fetched jar names (a Maven run can succeed with less than
    expected). The download goes to a temporary directory that is renamed into place,
    so an interrupted run never leaves a half-filled classpath.
    """
    if not pom.is_file():
        raise InfraError(f"{pom} is missing; run from a complete peerloop checkout")
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = libs / ".complete"
    if _marker_matches(marker, digest):
        return libs

    java_binary()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError(
            f"Maven (`mvn`) is needed once to fetch the {what} jars from Maven Central but "
            "is not on PATH. Install it (Debian/Ubuntu: `sudo apt-get install maven`, "
            "macOS: `brew install maven`) and run the command again."
        )

    with locked(libs.parent / ".download.lock"):
        if _marker_matches(marker, digest):  # another process finished meanwhile
            return libs
        staging = libs.parent / f"libs.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        argv = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            f"-Dmaven.repo.local={cache_dir() / 'm2'}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv
                argv,
                capture_output=True,
                text=True,
                timeout=_DOWNLOAD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            raise InfraError(
                f"downloading the {what} jars took longer than {_DOWNLOAD_TIMEOUT_S:.0f}s; "
                "check the connection to Maven Central (or your Maven mirror) and retry"
            ) from None
        names = {jar.name for jar in staging.glob("*.jar")} if staging.is_dir() else set()
        if result.returncode != 0 or not complete(names):
            shutil.rmtree(staging, ignore_errors=True)
            output = (result.stdout + result.stderr).strip().splitlines()
            raise InfraError(
                f"could not download the {what} jars from Maven Central "
                f"(`{shlex.join(argv)}` exited {result.returncode}). Check network access "
                "to https://repo.maven.apache.org (or the mirror in ~/.m2/settings.xml) "
                "and retry.\n" + "\n".join(output[-25:])
            )
        (staging / ".complete").write_text(digest + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
    return libs


def _marker_matches(marker: Path, digest: str) -> bool:
    try:
        return marker.read_text().strip() == digest
    except OSError:
        return False
