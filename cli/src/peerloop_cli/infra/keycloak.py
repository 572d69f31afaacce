"""A real Keycloak (OpenID Connect provider) on 127.0.0.1, with the demo realm imported.

No Docker and no release download: the server distribution comes from Maven Central
through `deploy/local/keycloak/pom.xml` and runs on a Java 21+ found on the machine.

    settings = KeycloakSettings.from_env()
    ensure_dist()                     # once per machine: download, unpack, pre-build
    start(settings)                   # imports deploy/keycloak/peerloop-realm.json
    wait_ready(settings)              # the realm's discovery document answers
    status(settings)
    stop(settings)                    # SIGTERM (graceful), SIGKILL after grace

Files:
    <cache>/keycloak-<version>-<digest>/  the distribution, pre-built (`build`) with
                                          BUILD_OPTIONS; read-only afterwards, so
                                          every checkout on the machine shares it
    <state>/keycloak/home/                Keycloak's home: lib, conf, providers, themes
                                          are links into the cached distribution,
                                          data/ is real (H2 database, transaction log,
                                          tmp, import/)
    <state>/keycloak/realm.sha256         the realm file the database was created from
    <state>/keycloak/cds.jsa              the JVM's class-data archive (~130 MB), written
                                          at the first exit, re-made when Java changes
    <state>/keycloak/keycloak.log         server output
    <state>/keycloak/pid, started_at

Keycloak derives every writable path from its home directory (`kc.home.dir`), so
a per-state home made of links keeps the cached distribution untouched. The server
runs `start --optimized`: runtime options never trigger a re-build into the cache.
When the committed realm file changes, the next start drops the database and imports
it afresh (people registered by tests are gone then; they are re-created on demand).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

import httpx

from peerloop_cli.infra.component import LocalComponent
from peerloop_cli.infra.jvm import copy_dependencies, java_major, locked, marker_matches, maven
from peerloop_cli.infra.paths import cache_dir, component_dir, repo_root
from peerloop_cli.infra.process import InfraError, env_port, port_open

KEYCLOAK_VERSION = "26.4.7"
MIN_JAVA = 21
HOST = "127.0.0.1"
REALM = "peerloop"
MAIN_CLASS = "io.quarkus.bootstrap.runner.QuarkusEntryPoint"
# Build-time options, baked into the cached distribution by `build`. Health and
# metrics stay off: either would open a second (management) port.
BUILD_OPTIONS = ("--db=dev-file",)
DEFAULT_PORT = 8180
DEFAULT_HEAP = "-Xms64m -Xmx512m"
DEFAULT_ADMIN_USER = "admin"
DEFAULT_ADMIN_PASSWORD = "peerloop-admin"  # noqa: S105 - local-only bootstrap admin

_NAME = "keycloak"
_BUILD_TIMEOUT_S = 600.0
_JVM_SEARCH_DIRS = (Path("/usr/lib/jvm"), Path("/Library/Java/JavaVirtualMachines"))
# What kc.sh passes to the JVM, minus its heap default (ours is configurable).
_JVM_OPTIONS = (
    "-XX:MetaspaceSize=96M",
    "-XX:MaxMetaspaceSize=256m",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UseG1GC",
    "-Dfile.encoding=UTF-8",
    "-Dsun.stdout.encoding=UTF-8",
    "-Dsun.err.encoding=UTF-8",
    "-Dstdout.encoding=UTF-8",
    "-Dstderr.encoding=UTF-8",
    "-Djava.security.egd=file:/dev/urandom",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "-Duser.language=en",
    "-Duser.country=US",
    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
    "-Dpicocli.disable.closures=true",
    "-Dquarkus-log-max-startup-records=10000",
    "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
    "io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory",
)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class KeycloakSettings:
    port: int = DEFAULT_PORT
    heap: str = DEFAULT_HEAP
    admin_user: str = DEFAULT_ADMIN_USER
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    java_home: str = ""
    version: str = field(default=KEYCLOAK_VERSION, init=False)

    @classmethod
    def from_env(cls) -> KeycloakSettings:
        return cls(
            port=env_port("PEERLOOP_KEYCLOAK_PORT", DEFAULT_PORT),
            heap=os.environ.get("PEERLOOP_KEYCLOAK_HEAP", "").strip() or DEFAULT_HEAP,
            admin_user=os.environ.get("PEERLOOP_KEYCLOAK_ADMIN", "").strip() or DEFAULT_ADMIN_USER,
            admin_password=os.environ.get("PEERLOOP_KEYCLOAK_ADMIN_PASSWORD", "")
            or DEFAULT_ADMIN_PASSWORD,
            java_home=os.environ.get("PEERLOOP_KEYCLOAK_JAVA_HOME", "").strip(),
        )

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def dir(self) -> Path:
        return component_dir(_NAME)

    @property
    def home(self) -> Path:
        return self.dir / "home"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def class_archive(self) -> Path:
        return self.dir / "cds.jsa"


def realm_file() -> Path:
    return repo_root() / "deploy" / "keycloak" / "peerloop-realm.json"


def pom_file() -> Path:
    return repo_root() / "deploy" / "local" / "keycloak" / "pom.xml"


# --------------------------------------------------------------------------- java


def java_binary(java_home: str = "") -> str:
    """A `java` of version 21 or newer.

    Looked for in `PEERLOOP_KEYCLOAK_JAVA_HOME` (when set, it must be new enough),
    then the newest JDK under /usr/lib/jvm (or macOS's JavaVirtualMachines), then
    `$JAVA_HOME` and `java` on PATH. The machine's default Java may well be older
    (Kafka is content with 17), which is why the search does not stop at PATH.
    """
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        major = java_major(candidate)
        if major is None or major < MIN_JAVA:
            found = "not a Java" if major is None else f"Java {major}"
            raise InfraError(
                f"PEERLOOP_KEYCLOAK_JAVA_HOME={java_home} is {found}; Keycloak "
                f"{KEYCLOAK_VERSION} needs Java {MIN_JAVA} or newer."
            )
        return str(candidate)
    best: tuple[int, str] | None = None
    for candidate in _java_candidates():
        major = java_major(candidate)
        if major is not None and major >= MIN_JAVA and (best is None or major > best[0]):
            best = (major, str(candidate))
    if best is not None:
        return best[1]
    raise InfraError(
        f"Keycloak {KEYCLOAK_VERSION} needs Java {MIN_JAVA} or newer, and none was found "
        "(looked in PEERLOOP_KEYCLOAK_JAVA_HOME, /usr/lib/jvm, JAVA_HOME and PATH). "
        "Install a JDK 21+ (Debian/Ubuntu: a Temurin 21 or 25 package, or "
        "`sudo apt-get install openjdk-21-jre-headless` where available; macOS: "
        "`brew install openjdk@21`) and set PEERLOOP_KEYCLOAK_JAVA_HOME to it if it "
        "is somewhere else."
    )


def _java_candidates() -> Iterator[Path]:
    for root in _JVM_SEARCH_DIRS:
        with contextlib.suppress(OSError):
            for entry in sorted(root.iterdir()):
                for java in (entry / "bin" / "java", entry / "Contents" / "Home" / "bin" / "java"):
                    if java.is_file():
                        yield java
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        yield Path(java_home) / "bin" / "java"
    on_path = shutil.which("java")
    if on_path:
        yield Path(on_path)


# --------------------------------------------------------------------------- distribution


def _dist_digest() -> str:
    pom = pom_file()
    if not pom.is_file():
        raise InfraError(f"{pom} is missing; run from a complete peerloop checkout")
    text = pom.read_text() + "\n".join(BUILD_OPTIONS)
    return hashlib.sha256(text.encode()).hexdigest()


def dist_dir() -> Path:
    return cache_dir() / f"keycloak-{KEYCLOAK_VERSION}-{_dist_digest()[:12]}"


def ensure_dist(java_home: str = "") -> Path:
    """The pre-built distribution, downloaded, unpacked and built on first use.

    The build happens in the directory's final place (Quarkus records paths while
    augmenting); a marker written last says it is complete, and a directory
    without it is wiped and done again.
    """
    dist = dist_dir()
    digest = _dist_digest()
    marker = dist / ".complete"
    if marker_matches(marker, digest):
        return dist
    java = java_binary(java_home)
    maven()
    with locked(cache_dir() / f".keycloak-{KEYCLOAK_VERSION}.lock"):
        if marker_matches(marker, digest):  # another process finished meanwhile
            return dist
        shutil.rmtree(dist, ignore_errors=True)
        staging = cache_dir() / f"keycloak-download.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            archive = _download(staging)
            _unpack(archive, dist)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _build(java, dist)
        marker.write_text(digest + "\n")
    return dist


def _download(staging: Path) -> Path:
    copy_dependencies(
        pom_file(),
        staging,
        what="Keycloak",
        options=("-DincludeTypes=zip", "-DexcludeTransitive=true"),
    )
    archive = staging / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    if not archive.is_file():
        raise InfraError(f"Maven fetched Keycloak from {pom_file()} but not {archive.name}")
    return archive


def _unpack(archive: Path, dist: Path) -> None:
    """Unzip without the top-level `keycloak-<version>/`, keeping the exec bits."""
    prefix = f"keycloak-{KEYCLOAK_VERSION}/"
    dist.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if not info.filename.startswith(prefix) or info.filename == prefix:
                continue
            relative = info.filename[len(prefix) :]
            target = dist / relative
            if not target.resolve().is_relative_to(dist.resolve()):
                raise InfraError(f"{archive} holds an entry outside its folder: {info.filename}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


def _build(java: str, dist: Path) -> None:
    argv = [
        java,
        "-Xmx512m",
        *_JVM_OPTIONS,
        *_home_options(dist),
        "-cp",
        str(dist / "lib" / "quarkus-run.jar"),
        MAIN_CLASS,
        "build",
        *BUILD_OPTIONS,
    ]
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False, cwd=dist
        )
    except subprocess.TimeoutExpired:
        raise InfraError(
            f"`kc.sh build` of {dist} took longer than {_BUILD_TIMEOUT_S:.0f}s"
        ) from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise InfraError(
            f"pre-building Keycloak in {dist} failed (exit {result.returncode}):\n"
            + "\n".join(output[-25:])
        )
    # The build may leave a data/ folder (tmp files); a start must never use it.
    shutil.rmtree(dist / "data", ignore_errors=True)


def _home_options(home: Path) -> list[str]:
    return [f"-Dkc.home.dir={home}", f"-Djboss.server.config.dir={home / 'conf'}"]


# --------------------------------------------------------------------------- home


def _prepare_home(settings: KeycloakSettings, dist: Path) -> None:
    """Links to the shared distribution, a real data/ and the realm file to import."""
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    for name in ("lib", "conf", "providers", "themes"):
        link = home / name
        if link.is_symlink() and Path(os.readlink(link)) == dist / name:
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(dist / name)
    source = realm_file()
    if not source.is_file():
        raise InfraError(f"{source} is missing; run from a complete peerloop checkout")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    recorded = settings.dir / "realm.sha256"
    if not marker_matches(recorded, digest):
        # --import-realm skips a realm that exists; a changed file needs a fresh database.
        shutil.rmtree(settings.data_dir / "h2", ignore_errors=True)
    import_dir = settings.data_dir / "import"
    import_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, import_dir / source.name)
    recorded.write_text(digest + "\n")


# --------------------------------------------------------------------------- lifecycle


class LocalKeycloak(LocalComponent):
    host = HOST

    def __init__(self, settings: KeycloakSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return _NAME

    @property
    def what(self) -> str:
        return f"Keycloak on {self.settings.base_url}"

    @property
    def ports(self) -> tuple[tuple[int, str], ...]:
        return ((self.settings.port, "PEERLOOP_KEYCLOAK_PORT"),)

    def signature(self) -> tuple[bytes, ...]:
        return MAIN_CLASS.encode(), f"-Dkc.home.dir={self.settings.home}".encode()

    @property
    def cwd(self) -> Path:
        return self.settings.home

    def environment(self) -> dict[str, str]:
        return {
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.settings.admin_user,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.settings.admin_password,
        }

    def prepare_command(self) -> list[str]:
        settings = self.settings
        java = java_binary(settings.java_home)
        dist = ensure_dist(settings.java_home)
        _prepare_home(settings, dist)
        return [
            java,
            *shlex.split(settings.heap),
            *_JVM_OPTIONS,
            # Loading the classes from an archive made at the previous exit saves ~1.5 s
            # of a ~6 s warm start on two cores (JDK 19+ keeps it in step by itself).
            f"-XX:SharedArchiveFile={settings.class_archive}",
            "-XX:+AutoCreateSharedArchive",
            *_home_options(settings.home),
            "-cp",
            str(dist / "lib" / "quarkus-run.jar"),
            MAIN_CLASS,
            "start",
            "--optimized",
            "--http-enabled=true",
            f"--http-host={HOST}",
            f"--http-port={settings.port}",
            # A fixed hostname fixes the issuer, whatever Host header a client sends.
            f"--hostname={settings.base_url}",
            "--cache=local",
            "--import-realm",
            "--log-console-output=default",
        ]

    def probe(self, within_s: float) -> str | None:
        if not port_open(HOST, self.settings.port):
            return "the port is not open"
        if not _discovery_answers(self.settings, timeout=min(within_s, 2.0)):
            return f"the {REALM!r} realm's discovery document does not answer"
        return None


def start(settings: KeycloakSettings) -> None:
    """Start the server detached. Returns at once if ours already runs.

    Raises InfraError when the port is taken by something else. Does not wait for
    readiness; call `wait_ready` for that.
    """
    LocalKeycloak(settings).start()


def stop(settings: KeycloakSettings, grace_seconds: float = 30.0) -> bool:
    """SIGTERM (Keycloak shuts down gracefully), SIGKILL after the grace period.

    Returns True if our server was running; then the port is closed afterwards, or
    this raises saying so.
    """
    return LocalKeycloak(settings).stop(grace_seconds)


def reset(settings: KeycloakSettings) -> None:
    """Stop the server and delete its data; the next start imports the realm afresh."""
    stop(settings)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    (settings.dir / "realm.sha256").unlink(missing_ok=True)


class KeycloakStatus(TypedDict):
    state: Literal["running", "starting", "stopped", "port-taken"]
    pid: int | None
    issuer: str
    log: str


def status(settings: KeycloakSettings) -> KeycloakStatus:
    """running: ours answers the realm's discovery document; starting: ours, not yet."""
    keycloak = LocalKeycloak(settings)
    found = keycloak.state()
    return KeycloakStatus(
        state=found.state, pid=found.pid, issuer=settings.issuer, log=str(keycloak.process.log_file)
    )


def log_tail(lines: int = 30) -> str:
    """The server output of the latest start only."""
    return LocalKeycloak(KeycloakSettings.from_env()).log_tail(lines)


# --------------------------------------------------------------------------- readiness


def _discovery_answers(settings: KeycloakSettings, timeout: float = 2.0) -> bool:
    url = f"{settings.issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    try:
        return bool(response.json().get("issuer") == settings.issuer)
    except ValueError:
        return False


def wait_ready(settings: KeycloakSettings, timeout: float = 240.0) -> float:
    """Block until the demo realm's discovery document names our issuer; returns seconds.

    The first start on a fresh state directory creates the database and imports
    the realm (200 people), which takes longer than a warm start.
    """
    return LocalKeycloak(settings).wait_ready(timeout)
