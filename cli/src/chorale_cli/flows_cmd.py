"""`chorale flows …`: Suivi des flux for operators — live tail from Kafka, one flow's compte
rendu from the intake service, and the aggregates of the notifications service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Callable

import httpx
import typer
from aiokafka import AIOKafkaConsumer
from rich.console import Console

from chorale_cli.flows_render import FlowRow, format_row, header, render_detail, render_stats
from chorale_cli.services import SERVICES
from chorale_contracts import Topic, topic_name

app = typer.Typer(help="Suivi des flux : flux en direct, compte rendu d'un flux, agrégats.",
                  no_args_is_help=True)

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PREFIX = os.environ.get("CHORALE_TOPIC_PREFIX", "")


async def tail(
    bootstrap: str,
    topic: str,
    emit: Callable[[str], None],
    *,
    partner: str | None = None,
    statuses: list[str] | None = None,
    from_beginning: bool = False,
    color: bool = True,
    stop: asyncio.Event | None = None,
) -> None:
    """Print one row per matching status change until `stop` is set (or cancelled). Its own
    throwaway consumer group, never committing: it disturbs no one's offsets."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"chorale-cli-tail-{uuid.uuid4().hex[:12]}",
        enable_auto_commit=False, auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    stop = stop or asyncio.Event()
    try:
        emit(header(color=color))
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=300)
            records = sorted((r for rs in batches.values() for r in rs),
                             key=lambda r: (r.timestamp, r.offset))
            for record in records:
                if record.value is None:
                    continue  # a record without a value is no event
                try:
                    row = FlowRow.from_event(json.loads(record.value))
                except (ValueError, KeyError, TypeError):
                    continue  # not an envelope we understand: a tail never stops for it
                if row is not None and row.matches(partner, statuses):
                    emit(format_row(row, color=color))
    finally:
        await consumer.stop()


@app.command("tail")
def tail_cmd(
    partner: str | None = typer.Option(None, "--partner", "-p", help="SIRET du partenaire"),
    status: list[str] | None = typer.Option(None, "--status", "-s",  # noqa: B008
                                            help="statut(s) à afficher, ex. IN_REJETE"),
    from_beginning: bool = typer.Option(False, "--from-beginning",
                                        help="depuis le début du topic"),
    bootstrap: str = typer.Option(BOOTSTRAP, "--bootstrap", help="serveurs Kafka host:port"),
    topic_prefix: str = typer.Option(PREFIX, "--topic-prefix", help="préfixe des topics"),
) -> None:
    """Flux en direct depuis chorale.flows.v1, une ligne par changement de statut (Ctrl-C)."""
    console = Console(highlight=False)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail(bootstrap, topic_name(Topic.FLOWS, topic_prefix), console.print,
                         partner=partner, statuses=status, from_beginning=from_beginning))


def _get(url: str, token: str | None, params: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(url, headers=headers, params=params, timeout=10)
    except httpx.HTTPError as exc:
        typer.echo(f"{url} injoignable : {exc}", err=True)
        raise typer.Exit(2) from None
    if response.status_code != 200:
        try:
            body = response.json()
            typer.echo(f"{response.status_code} {body.get('code')}: {body.get('message')}",
                       err=True)
        except ValueError:
            typer.echo(f"{response.status_code}: {response.text[:300]}", err=True)
        raise typer.Exit(1)
    return response.json()


@app.command("show")
def show_cmd(
    numero: str = typer.Argument(..., help="numéro de flux (numeroFluxDepot)"),
    url: str = typer.Option(
        SERVICES["invoice-intake"].local_url, "--url", help="service invoice-intake"
    ),
    token: str | None = typer.Option(None, "--token", envvar="CHORALE_TOKEN",
                                     help="jeton d'accès (ou CHORALE_TOKEN)"),
) -> None:
    """Compte rendu détaillé d'un flux : statut, dates, listeErreurTechnique, listeErreurDP."""
    typer.echo(render_detail(_get(f"{url.rstrip('/')}/v1/flows/{numero}", token)))


@app.command("stats")
def stats_cmd(
    granularite: str = typer.Option("heure", "--granularite", help="heure ou jour"),
    depuis: str | None = typer.Option(None, "--depuis", help="début ISO 8601 (UTC)"),
    jusqua: str | None = typer.Option(None, "--jusqua", help="fin ISO 8601 (UTC)"),
    partenaire: str | None = typer.Option(None, "--partenaire", help="SIRET du partenaire"),
    url: str = typer.Option(
        SERVICES["notifications"].local_url, "--url", help="service notifications"
    ),
    token: str | None = typer.Option(None, "--token", envvar="CHORALE_TOKEN",
                                     help="jeton d'opérateur (ou CHORALE_TOKEN)"),
) -> None:
    """Agrégats du suivi des flux : flux par statut par heure ou par jour, par partenaire."""
    params = {k: v for k, v in {"granularite": granularite, "depuis": depuis,
                                "jusqua": jusqua, "partenaire": partenaire}.items() if v}
    typer.echo(render_stats(_get(f"{url.rstrip('/')}/v1/suivi-flux/stats", token, params)))
