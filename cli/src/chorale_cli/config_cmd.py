"""`chorale config`: the effective configuration of a service, secrets masked."""

from __future__ import annotations

import json

import typer
from pydantic import ValidationError

from chorale_cli.services import SERVICES
from chorale_runtime.settings import describe_error


def show_config(service: str, as_json: bool) -> None:
    info = SERVICES.get(service)
    if info is None:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    try:
        settings = info.settings_class()()
    except ValidationError as exc:
        typer.echo(f"chorale-{service}: invalid configuration: {describe_error(exc)}", err=True)
        raise typer.Exit(2) from None
    effective = settings.effective()
    if as_json:
        typer.echo(json.dumps(effective, indent=2, default=str))
        return
    fields = type(settings).model_fields
    width = max(len(k) for k in effective)
    for key, value in effective.items():
        env = f"CHORALE_{key.upper()}"
        if key == "kafka_bootstrap_servers":
            env = "KAFKA_BOOTSTRAP_SERVERS"
        elif key == "mongodb_uri":
            env = "MONGODB_URI"
        doc = fields[key].description or ""
        typer.echo(f"{key:<{width}}  {value!s:<45} {env}  {doc}".rstrip())
