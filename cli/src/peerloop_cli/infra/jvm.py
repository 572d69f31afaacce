"""What the local JVM servers (Kafka, the store, Keycloak) share: Java and Maven downloads.

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
from collections.abc import Callable, Iterator, Sequence
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
    major = _major_of(probe.stderr + probe.stdout)
    if major is None:
        raise InfraError(f"could not tell the Java version of {candidate}:\n{probe.stderr}")
    if major < MIN_JAVA:
        raise InfraError(
            f"{candidate} is Java {major}; the local servers need Java {MIN_JAVA} or "
            "newer. Install a JDK 17 and point JAVA_HOME at it."
        )
    return candidate


def java_major(java: Path) -> int | None:
    """The major version of the `java` at `java`; None when it is not one that runs."""
    if not java.is_file():
        return None
    try:
        probe = subprocess.run(  # noqa: S603 - fixed argv
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _major_of(probe.stderr + probe.stdout)


def _major_of(version_output: str) -> int | None:
    match = re.search(r'(?:version "|javac )(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392"
        major = int(match.group(2))
    return major


def maven() -> str:
    """`mvn` on PATH, needed once per machine to fetch a component from Maven Central."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError(
            "Maven (`mvn`) is needed once to fetch the local servers from Maven Central but "
            "is not on PATH. Install it (Debian/Ubuntu: `sudo apt-get install maven`, "
            "macOS: `brew install maven`) and run the command again."
        )
    return mvn


def copy_dependencies(pom: Path, output: Path, *, what: str, options: Sequence[str]) -> None:
    """`mvn dependency:copy-dependencies` of `pom` into `output`; InfraError saying why not."""
    argv = [
        maven(),
        "-q",
        "-B",
        "-f",
        str(pom),
        f"-Dmaven.repo.local={cache_dir() / 'm2'}",
        "dependency:copy-dependencies",
        *options,
        f"-DoutputDirectory={output}",
    ]
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, timeout=_DOWNLOAD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise InfraError(
            f"downloading {what} took longer than {_DOWNLOAD_TIMEOUT_S:.0f}s; "
            "check the connection to Maven Central (or your Maven mirror) and retry"
        ) from None
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        raise InfraError(
            f"could not download {what} from Maven Central "
            f"(`{shlex.join(argv)}` exited {result.returncode}). Check network access "
            "to https://repo.maven.apache.org (or the mirror in ~/.m2/settings.xml) "
            "and retry.\n" + "\n".join(lines[-25:])
        )


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
    if marker_matches(marker, digest):
        return libs

    java_binary()
    maven()
    with locked(libs.parent / ".download.lock"):
        if marker_matches(marker, digest):  # another process finished meanwhile
            return libs
        staging = libs.parent / f"libs.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            copy_dependencies(
                pom, staging, what=f"the {what} jars", options=("-DincludeScope=runtime",)
            )
            names = {jar.name for jar in staging.glob("*.jar")} if staging.is_dir() else set()
            if not complete(names):
                raise InfraError(
                    f"Maven fetched the {what} jars from {pom} but some are missing "
                    f"(got {sorted(names)}); delete {libs.parent} and retry."
                )
        except InfraError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        (staging / ".complete").write_text(digest + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
    return libs


def marker_matches(marker: Path, digest: str) -> bool:
    """The marker file holds `digest`: what it marks was made from the same inputs."""
    try:
        return marker.read_text().strip() == digest
    except OSError:
        return False
