"""Command-line interface: `flask --app intake setup | outbox work | drafts purge`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade

from intake import bootstrap, demo, outbox
from intake.reports import drafts

outbox_cli = AppGroup("outbox", help="Deliver queued e-mail.")
drafts_cli = AppGroup("drafts", help="Drafts of reports in progress.")


@click.command("setup")
@click.option("--demo", "with_demo", is_flag=True, help="Add demo content too.")
def setup_command(with_demo: bool) -> None:
    """Migrate and create default inboxes, routing rules and the first admin (idempotent)."""
    upgrade()
    result = bootstrap.run_setup()
    for name, code in result.recovery_codes.items():
        click.echo(f"Återställningskod för inkorgen {name} (visas en gång, skriv ut och lås in):")
        click.echo(f"    {code}")
    if result.admin_password:
        click.echo(f"Första administratör: {bootstrap.FIRST_ADMIN}")
        click.echo(f"    engångslösenord: {result.admin_password}")
    if with_demo:
        click.echo(f"Demoinnehåll: {demo.add_demo_content()} anmälningar.")
    if not result.created and not with_demo:
        click.echo("Allt fanns redan; inget ändrat.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
def outbox_work(once: bool) -> None:
    """Deliver queued e-mail with retry and backoff, and run the scheduled jobs."""
    sent = outbox.work(once=once)
    if once:
        click.echo(f"{sent} skickade, {outbox.pending_count()} kvar i kön.")


@drafts_cli.command("purge")
def drafts_purge() -> None:
    """Delete expired drafts now."""
    click.echo(f"{drafts.purge_expired()} utgångna utkast raderade.")


def register(app: Flask) -> None:
    """Attach the commands."""
    app.cli.add_command(setup_command)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(drafts_cli)
