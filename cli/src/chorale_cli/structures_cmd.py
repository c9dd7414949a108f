"""`chorale structures import FILE`: upload the reference list of public structures to the
structures service, follow the import job, print its report.

Exit status: 0 imported (rejected lines are listed), 1 the import failed (HTTP error, job
ECHEC, unusable file), 2 usage error (no token...), 3 with --strict when lines were rejected.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from chorale_cli.services import SERVICES

app = typer.Typer(help="Structures : import du référentiel des structures publiques.",
                  no_args_is_help=True)

DEFAULT_URL = os.environ.get("CHORALE_STRUCTURES_URL", SERVICES["structures"].local_url)
CHUNK = 256 * 1024
FINISHED = ("TERMINE", "ECHEC")


class ImportFailed(Exception):
    pass


def _bars(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(),
        DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}"), console=console, transient=False,
    )


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body['code']} : {body['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


async def _upload(
    client: httpx.AsyncClient, path: Path, size: int, bars: Progress
) -> dict[str, Any]:
    task = bars.add_task("Envoi du fichier", total=size, detail="")

    async def chunks() -> AsyncIterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                bars.advance(task, len(chunk))
                yield chunk

    response = await client.post(
        "/v1/structures/imports", content=chunks(), params={"nomFichier": path.name},
        headers={"Content-Type": "text/csv", "Content-Length": str(size)},
    )
    if response.status_code != 202:
        raise ImportFailed(_error(response))
    return response.json()


async def _follow(client: httpx.AsyncClient, job: dict[str, Any], bars: Progress,
                  interval: float) -> dict[str, Any]:
    task = bars.add_task("Traitement des lignes", total=job["tailleFichier"] or 1, detail="")
    while True:
        response = await client.get(f"/v1/structures/imports/{job['idImport']}")
        if response.status_code != 200:
            raise ImportFailed(_error(response))
        job = response.json()
        lines = job["lignes"]
        bars.update(task, completed=job["octetsTraites"],
                    detail=f"{lines['traitees']} lignes, {lines['rejetees']} rejetées")
        if job["statut"] in FINISHED:
            return job
        await asyncio.sleep(interval)


def print_report(console: Console, job: dict[str, Any]) -> None:
    lines = job["lignes"]
    console.print(f"Import {job['idImport']}")
    summary = Table(title=f"Compte rendu : {job['statut']}", show_header=False)
    for label, key in (("Lignes traitées", "traitees"), ("Créées", "creees"),
                       ("Modifiées", "modifiees"), ("Inchangées", "inchangees"),
                       ("Rejetées", "rejetees")):
        summary.add_row(label, str(lines[key]))
    console.print(summary)
    if job.get("erreur"):
        console.print(f"[red]{job['erreur']['code']}[/] : {job['erreur']['message']}")
    if job["rejets"]:
        rejected = Table(title="Lignes rejetées")
        for column in ("Ligne", "Code", "Raison", "Identifiant"):
            rejected.add_column(column)
        for r in job["rejets"]:
            rejected.add_row(str(r["ligne"]), r["code"], r["raison"], r.get("identifiant") or "")
        console.print(rejected)
    if job["rejetsNonDetailles"]:
        console.print(f"… et {job['rejetsNonDetailles']} autres lignes rejetées (non détaillées).")


async def run_import(path: Path, size: int, url: str, token: str, *, interval: float,
                     console: Console, timeout: float = 300) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout) as client:
        with _bars(console) as bars:
            job = await _upload(client, path, size, bars)
            return await _follow(client, job, bars, interval)


CsvFile = Annotated[Path, typer.Argument(
    exists=True, dir_okay=False, readable=True,
    help="fichier CSV (voir services/structures/docs/import-format.md)",
)]
Url = Annotated[str, typer.Option("--url", help="adresse du service structures")]
Token = Annotated[str | None, typer.Option(
    "--token", envvar="CHORALE_TOKEN", help="jeton d'accès d'un opérateur (ou CHORALE_TOKEN)",
)]
Interval = Annotated[float, typer.Option("--interval", help="secondes entre deux relevés")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="code de sortie 3 si des lignes sont rejetées",
)]


@app.command("import")
def import_cmd(file: CsvFile, url: Url = DEFAULT_URL, token: Token = None,
               interval: Interval = 0.5, strict: Strict = False) -> None:
    """Importer le référentiel des structures publiques, suivre le traitement, afficher le
    compte rendu."""
    console = Console(highlight=False)
    if not token:
        console.print("[red]Jeton d'accès manquant[/] : --token ou CHORALE_TOKEN.")
        raise typer.Exit(2)
    try:
        job = asyncio.run(run_import(file, file.stat().st_size, url.rstrip("/"), token,
                                     interval=interval, console=console))
    except ImportFailed as exc:
        console.print(f"[red]Import refusé[/] : {exc}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        console.print(f"[red]Service structures injoignable[/] ({url}) : {exc}")
        raise typer.Exit(1) from None
    print_report(console, job)
    if job["statut"] != "TERMINE":
        raise typer.Exit(1)
    if strict and job["lignes"]["rejetees"]:
        raise typer.Exit(3)
