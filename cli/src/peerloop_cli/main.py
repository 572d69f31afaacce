"""`peerloop`: run the platform locally.

peerloop up | down | status          the whole platform (infra, services, mail catcher)
peerloop logs [service]              a component's log
peerloop events tail [--type …]      events as they flow, decoded, with CloudEvents headers
peerloop demo                        one full scripted learning loop, step by step
peerloop infra up | down | status    Kafka, the store and Keycloak only
peerloop token <person-or-email>     an access token, for curl (--service hr|insights|scim)
peerloop import people.csv           create or update people from a CSV file (through SCIM)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from rich.console import Console

from peerloop_cli import platform
from peerloop_cli.demo_data import build_organisation
from peerloop_cli.identity import IdentityError
from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import component_dir
from peerloop_cli.infra.process import InfraError, ManagedProcess
from peerloop_cli.realm import DEMO_PASSWORD
from peerloop_cli.seed import SeedError, seed_organisation

app = typer.Typer(help="Peerloop: peer-to-peer learning, run locally.", no_args_is_help=True)
infra_app = typer.Typer(
    help="Local infrastructure: a real Kafka broker, the store and Keycloak (OpenID Connect)."
)
events_app = typer.Typer(help="Watch the events on Kafka.")
app.add_typer(infra_app, name="infra")
app.add_typer(events_app, name="events")

console = Console()


def _progress(message: str) -> None:
    console.print(f"[cyan]•[/] {message}")


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(code=1)


@app.command("up")
def up(
    seed: bool = typer.Option(
        True, help="Load the demo organisation (~200 people, a few open help requests)."
    ),
    wait: bool = typer.Option(
        False, "--wait", help="Stay in the foreground; Ctrl-C or SIGTERM stops everything."
    ),
) -> None:
    """Start Kafka, the store, the three services, the web and chat apps and a mail catcher;
    seed demo data."""
    started = time.monotonic()
    try:
        deployment = platform.up(_progress)
        if seed:
            org = build_organisation()
            asyncio.run(
                seed_organisation(
                    deployment.url("profiles"), deployment.url("matching"), org, _progress
                )
            )
    except (InfraError, SeedError, IdentityError) as exc:
        raise _fail(exc) from exc
    console.print(f"\n[green]Peerloop is up[/] in {time.monotonic() - started:.0f}s\n")
    if deployment.web_port is not None:
        console.print(
            f"  {'web app':14} {deployment.url(platform.WEB)}  (sign in as p-001 … p-200)"
        )
    for name in platform.SERVICE_NAMES:
        console.print(f"  {name:14} {deployment.url(name)}/docs")
    if deployment.chat_port is not None:
        console.print(
            f"  {'chat (Slack)':14} {deployment.url(platform.CHAT)}/slack/commands, …/interactivity"
        )
    console.print(f"  {'mail':14} {deployment.mail_dir} (every e-mail sent, as .eml)")
    inbox = f"{deployment.url('notifications')}/people/p-001/inbox"
    console.print(
        f'  {"inbox":14} curl -H "Authorization: Bearer $(.venv/bin/peerloop token p-001)" {inbox}'
    )
    console.print(
        f"  {'log in as':14} p-001 … p-200, password {DEMO_PASSWORD} (admins p-010, p-020)"
    )
    console.print(f"  {'events':14} .venv/bin/peerloop events tail")
    console.print(f"  {'demo':14} .venv/bin/peerloop demo")
    console.print(f"  {'stop':14} .venv/bin/peerloop down\n")
    if wait:
        _wait_for_signal()


def _wait_for_signal() -> None:
    stopping = False

    def stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print("running; Ctrl-C stops everything")
    while not stopping:
        time.sleep(0.5)
    platform.down(_progress)


@app.command("down")
def down() -> None:
    """Stop everything `up` started; nothing keeps running or listening."""
    try:
        platform.down(_progress)
    except InfraError as exc:
        raise _fail(exc) from exc
    console.print("[green]stopped[/]")


@app.command("status")
def status() -> None:
    """Each component's health, as it really is."""
    for name, text in platform.status().items():
        console.print(f"{name:14} {text}")


@app.command("logs")
def logs(
    component: str = typer.Argument("", help="profiles, matching, notifications, kafka, …"),
    lines: int = typer.Option(50, "--lines", "-n"),
) -> None:
    """Show the end of a component's log (all services when none is named)."""
    names = [component] if component else [*platform.SERVICE_NAMES, platform.WEB, platform.CHAT]
    known = (*platform.SERVICE_NAMES, platform.WEB, platform.CHAT)
    for name in names:
        deployment = platform.local()
        proc = deployment.process(name) if name in known else ManagedProcess(name)
        if not proc.log_file.exists():
            console.print(f"[yellow]no log for {name!r} in {component_dir(proc.name)}[/]")
            continue
        console.rule(name)
        console.print(proc.log_tail(lines), markup=False, highlight=False)


@app.command("demo")
def demo() -> None:
    """Run one full scripted learning loop against the running platform, printing each step."""
    from peerloop_cli.demo import run_demo
    from peerloop_cli.identity import IdentityError, IdentityProvider, Tokens
    from peerloop_cli.loop_client import LoopError, PeerloopClient

    deployment = platform.Deployment()

    async def go() -> None:
        async with Tokens(IdentityProvider.from_env()) as tokens:
            client = PeerloopClient(
                deployment.url("profiles"),
                deployment.url("matching"),
                deployment.url("notifications"),
                tokens,
            )
            try:
                await run_demo(client, lambda line: console.print(line, highlight=False))
            finally:
                await client.close()

    try:
        asyncio.run(go())
    except (LoopError, IdentityError) as exc:
        raise _fail(exc) from exc


@app.command("import")
def import_people(
    path: Annotated[Path, typer.Argument(help="CSV file with a header row; see the columns.")],
    profiles_url: Annotated[
        str, typer.Option(help="The profiles service (default: the local platform's).")
    ] = "",
) -> None:
    """Create or update people from a CSV file, through the profiles service's SCIM API.

    Columns: user_name and email (required), display_name, team, department, manager
    (a user_name), time_zone, language, active (true/false), external_id. Running it
    again changes only what changed; a failed row is reported with its line number and
    the command ends with exit code 1.
    """
    from rich.progress import Progress

    from peerloop_cli.identity import SERVICES, IdentityProvider, Tokens
    from peerloop_cli.people_import import CsvFileError, Importer, Report, read_rows

    try:
        rows, errors = read_rows(path)
    except (OSError, UnicodeDecodeError, CsvFileError) as exc:
        raise _fail(exc) from exc
    report = Report(errors=list(errors))
    base = (profiles_url or platform.Deployment().url("profiles")).rstrip("/") + "/scim/v2"

    async def go() -> None:
        async with Tokens(IdentityProvider.from_env()) as tokens:
            auth = tokens.as_service(*SERVICES["scim"])
            async with httpx.AsyncClient(base_url=base, auth=auth, timeout=30) as http:
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task(f"importing {path.name}", total=2 * len(rows))
                    await Importer(http).run(rows, report, lambda: progress.advance(task))

    try:
        asyncio.run(go())
    except IdentityError as exc:
        raise _fail(exc) from exc
    for error in sorted(report.errors, key=lambda e: e.line):
        console.print(f"[red]line {error.line}:[/] {error.message}", highlight=False)
    console.print(f"{path.name}: {report.summary()}", highlight=False)
    if report.failed:
        raise typer.Exit(code=1)


@events_app.command("tail")
def events_tail(
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="e.g. match-proposed (repeatable)"),
    ] = None,
    from_beginning: bool = typer.Option(False, "--from-beginning"),
) -> None:
    """Print events as they flow: type, key, CloudEvents headers and the decoded body."""
    from peerloop_cli.events_tail import tail

    bootstrap = stack.endpoints().kafka_bootstrap
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail(bootstrap, types or [], from_beginning, console))


@app.command("token")
def token(
    subject: str = typer.Argument(
        "", help="A person id (p-001) or e-mail; every demo person has the demo password."
    ),
    service: str = typer.Option(
        "", "--service", help="A demo service account instead: hr, insights or scim."
    ),
    claims: bool = typer.Option(False, "--claims", help="Print the token's claims, not it."),
) -> None:
    """Print an access token from the identity provider (PEERLOOP_OIDC_ISSUER or the local one).

    curl -H "Authorization: Bearer $(.venv/bin/peerloop token p-001)" ...
    """
    import json

    from peerloop_cli.identity import IdentityError, jwt_claims, service_token_for, token_for

    if bool(subject) == bool(service):
        console.print("[red]error:[/] name a person (or e-mail), or --service hr|insights|scim")
        raise typer.Exit(code=2)
    try:
        access = service_token_for(service) if service else token_for(subject)
    except IdentityError as exc:
        raise _fail(exc) from exc
    # Plain print: rich would wrap the long token across lines.
    print(json.dumps(jwt_claims(access), indent=2) if claims else access)


@infra_app.command("up")
def infra_up() -> None:
    """Fetch, start and wait for Kafka, the store and Keycloak; create the declared topics."""
    try:
        endpoints = stack.up(_progress)
    except InfraError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]ready[/]  KAFKA_BOOTSTRAP_SERVERS={endpoints.kafka_bootstrap}")
    console.print(f"[green]ready[/]  MONGODB_URI={endpoints.mongodb_uri}")
    console.print(f"[green]ready[/]  PEERLOOP_OIDC_ISSUER={endpoints.oidc_issuer}")


@infra_app.command("down")
def infra_down() -> None:
    """Stop Kafka, the store and Keycloak; nothing keeps running or listening."""
    try:
        stack.down(_progress)
    except InfraError as exc:
        raise _fail(exc) from exc
    console.print("[green]stopped[/]")


@infra_app.command("status")
def infra_status() -> None:
    """Say what really runs."""
    for name, text in stack.status().items():
        console.print(f"{name:6} {text}")
