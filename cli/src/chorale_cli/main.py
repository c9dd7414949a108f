"""The `chorale` command."""

from __future__ import annotations

import typer

from chorale_cli.config_cmd import show_config
from chorale_cli.flows_cmd import app as flows_app
from chorale_cli.structures_cmd import app as structures_app

app = typer.Typer(help="Chorale: B2G e-invoicing hub — operator and developer commands.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(flows_app, name="flows")
app.add_typer(structures_app, name="structures")


@app.command("config")
def config(
    service: str = typer.Option(..., "--service", "-s", help="structures, identity, …"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Print a service's effective configuration (from the environment), secrets masked."""
    show_config(service, as_json)


@app.command("mailcatcher")
def mailcatcher() -> None:
    """Run the development SMTP server that keeps every mail under var/mail (used by make up)."""
    from chorale_cli.mailcatcher import main

    main()


@app.command("demo")
def demo(
    edi_root: str = typer.Option("var/edi", help="EDI root of the intake service"),
    mail_dir: str = typer.Option("var/mail", help="folder of the development mail catcher"),
    timeout: float = typer.Option(90.0, help="seconds to wait for each asynchronous outcome"),
    browser: bool = typer.Option(
        False, "--browser",
        help="play the journey as people do, in the portal (chromium, headless by default); "
             "screenshots in var/test-artifacts/portal/journey/"),
    headed: bool = typer.Option(
        False, "--headed",
        help="with --browser: show the browser window (needs a display: DISPLAY or "
             "WAYLAND_DISPLAY set, e.g. a desktop session or `xvfb-run`)"),
    portal: str = typer.Option("", help="with --browser: the portal's address "
                                        "(default: the local one of `make up`)"),
) -> None:
    """Play the webinar's journey against the running system (`make up`), narrating each step:
    over the APIs, or with --browser clicking and typing in the portal."""
    from pathlib import Path

    from chorale_cli.demo_cmd import demo as run_demo

    if headed and not browser:
        raise typer.BadParameter("--headed goes with --browser")
    run_demo(edi_root=Path(edi_root), mail_dir=Path(mail_dir), timeout=timeout,
             browser=browser, headed=headed, portal=portal or None)
