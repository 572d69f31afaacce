"""`peerloop`: run the platform locally.

peerloop infra up|down|status    Kafka and the store only
"""

from __future__ import annotations

import typer
from rich.console import Console

from peerloop_cli.infra import stack
from peerloop_cli.infra.process import InfraError

app = typer.Typer(help="Peerloop: peer-to-peer learning, run locally.", no_args_is_help=True)
infra_app = typer.Typer(help="Local infrastructure: a real Kafka broker and FerretDB.")
app.add_typer(infra_app, name="infra")

console = Console()


def _progress(message: str) -> None:
    console.print(f"[cyan]•[/] {message}")


def _fail(exc: InfraError) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(code=1)


@infra_app.command("up")
def infra_up() -> None:
    """Fetch, start and wait for Kafka and the store; create the declared topics."""
    try:
        endpoints = stack.up(_progress)
    except InfraError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]ready[/]  KAFKA_BOOTSTRAP_SERVERS={endpoints.kafka_bootstrap}")
    console.print(f"[green]ready[/]  MONGODB_URI={endpoints.mongodb_uri}")


@infra_app.command("down")
def infra_down() -> None:
    """Stop Kafka and the store; nothing keeps running or listening."""
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
