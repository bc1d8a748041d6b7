"""Command-line interface: `flask --app intake setup | outbox work | doctor | drafts purge`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from intake import (
    appkeys,
    audit,
    audit_anchors,
    backup,
    bootstrap,
    clock,
    demo,
    gallring,
    health,
    jobs,
    metrics,
    outbox,
    secrets,
    worker,
)
from intake.dialogues import erasure
from intake.extensions import db
from intake.reports import drafts, retention

outbox_cli = AppGroup("outbox", help="Deliver queued e-mail.")
drafts_cli = AppGroup("drafts", help="Drafts of reports in progress.")
audit_cli = AppGroup("audit", help="The hash-chained audit trail.")
retention_cli = AppGroup(
    "retention", help="Retention (gallring) of report content and dialogue personal data."
)
jobs_cli = AppGroup("jobs", help="Scheduled work.")
keys_cli = AppGroup("keys", help="The application keys for protected data.")
metrics_cli = AppGroup("metrics", help="Prometheus metrics for the operator.")


@click.command("setup")
@click.option("--demo", "with_demo", is_flag=True, help="Add demo content too.")
def setup_command(with_demo: bool) -> None:
    """Migrate and create default inboxes, routing rules and the first admin (idempotent)."""
    upgrade()
    try:
        result = bootstrap.run_setup()
    except bootstrap.SetupError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from error
    for name, code in result.recovery_codes.items():
        click.echo(f"Återställningskod för inkorgen {name} (visas en gång, skriv ut och lås in):")
        click.echo(f"    {code}")
    if result.admin_password:
        click.echo(f"Första administratör: {result.admin_email}")
        click.echo(f"    engångslösenord: {result.admin_password}")
    if with_demo:
        click.echo(f"Demoinnehåll: {demo.add_demo_content()} anmälningar.")
    if not result.created and not with_demo:
        click.echo("Allt fanns redan; inget ändrat.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
def outbox_work(once: bool) -> None:
    """Deliver queued e-mail with retry and backoff, and run the scheduled jobs."""
    if not once and not logging.getLogger().handlers:
        # The worker's own lines (started, recovered, jobs run) reach stderr and so journald;
        # they carry classes, counts and row ids, never content or addresses.
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sent = worker.work(once=once)
    if once:
        click.echo(f"{sent} skickade, {outbox.pending_count()} kvar i kön.")


def _age(seconds: int | None) -> str:
    return "–" if seconds is None else f"{seconds} s"


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """What /readyz checks, for an operator: exit 0 if all is well, 1 if not."""
    found = health.check(now=clock.now())

    def line(ok: bool, text: str) -> None:
        click.echo(f"{'ok  ' if ok else 'FEL '} {text}")

    line(found.database, "Databasen nås." if found.database else "Databasen nås INTE.")
    if found.database:
        line(
            bool(found.migrations),
            "Databasen har den senaste migreringen."
            if found.migrations
            else "Databasen är INTE migrerad till senaste versionen: kör setup.",
        )
        age = found.worker_heartbeat_age_seconds
        line(
            found.worker_fresh,
            "Ingen arbetare har gett livstecken (outbox work körs inte)."
            if age is None
            else f"Arbetarens senaste livstecken: för {age} s sedan "
            f"(gräns {found.worker_stale_after_seconds} s).",
        )
        line(
            found.mail_flowing,
            f"Äldsta oskickade e-post: {_age(found.oldest_unsent_mail_age_seconds)} "
            f"(gräns {found.mail_stale_after_seconds} s).",
        )
        line(
            found.failed_mails == 0,
            f"E-post som gett upp de senaste {current_app.config['FAILED_MAIL_DAYS']} dagarna: "
            f"{found.failed_mails}.",
        )
        for item in found.failed:
            click.echo(
                f"     {item.template}  köad {clock.local_date(item.created_at)}  "
                f"uppgiven {clock.local_date(item.failed_at)}  {item.error}"
            )
    click.echo("Allt fungerar." if found.ok else "Något behöver åtgärdas.")
    if not found.ok:
        raise SystemExit(1)


@drafts_cli.command("purge")
def drafts_purge() -> None:
    """Delete expired drafts now."""
    click.echo(f"{drafts.purge_expired()} utgångna utkast raderade.")


@audit_cli.command("verify")
@click.option(
    "--anchors",
    "anchors",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check against this copy of the anchor file (e.g. the one kept off-host).",
)
def audit_verify(anchors: Path | None) -> None:
    """Check the keyed chain and its anchors; exit 1 if any row was altered, removed,
    reordered or inserted, or the trail is shorter than an anchor says it was."""
    verdict = audit_anchors.verify(anchors)
    if verdict.ok:
        click.echo(
            f"Granskningsloggen är hel: {verdict.checked} rader kontrollerade, "
            f"{verdict.anchors} ankare stämmer."
        )
        if caveat := verdict.chain.caveat():
            click.echo(caveat)
        return
    click.echo(f"Granskningsloggen är BRUTEN: {verdict.problem}", err=True)
    raise SystemExit(1)


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Append the trail's head to the anchor file and its off-host sinks now (the worker does
    so every AUDIT_ANCHOR_EVERY_ROWS rows or AUDIT_ANCHOR_EVERY_SECONDS)."""
    anchor = audit_anchors.write()
    if anchor is None:
        click.echo("Inget nytt att förankra.")
        return
    click.echo(f"Förankrat: rad {anchor.seq} i {audit_anchors.path()}.")


@audit_cli.command("rotate-key")
def audit_rotate_key() -> None:
    """Add an audit key version to the instance secrets; new rows are MACed with it, older rows
    keep verifying with theirs. The first key also records where the plain chain ends."""
    try:
        version, legacy_until = audit.rotate_key(Path(current_app.instance_path))
    except secrets.SecretsError as error:
        click.echo(f"Ingen ny nyckel: {error}", err=True)
        raise SystemExit(1) from error
    audit.record("audit_key_rotated", actor_id=None, actor="cli", version=version)
    db.session.commit()
    click.echo(f"Ny granskningsnyckel, version {version}.")
    if legacy_until:
        click.echo(
            f"Rad 1–{legacy_until} skrevs före nyckeln och kontrolleras som oskyddad kedja; "
            "alla senare rader med nyckeln."
        )


def _decision_line(decision: gallring.RetentionDecision) -> str:
    return (
        f"Gallringsbeslut {decision.describe()}: {decision.retention_days} dagar, "
        f"gäller från {decision.valid_from.isoformat()}."
    )


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
def retention_purge(dry_run: bool) -> None:
    """Purge report content whose retention period after registration is over (from the
    recorded gallringsbeslut; refuses, exit 1, without one)."""
    today = clock.local_date(clock.now())
    try:
        decision = gallring.require(gallring.REPORT_CONTENT, on=today)
        items = retention.due(today=today) if dry_run else retention.purge(today=today)
    except gallring.NoDecision as refused:
        db.session.rollback()
        click.echo(f"Gallring vägrad: {refused}", err=True)
        raise SystemExit(1) from None
    verb = "skulle gallras" if dry_run else "gallrade"
    click.echo(_decision_line(decision))
    for item in items:
        click.echo(
            f"{item.reference}  {item.inbox}  "
            f"registrerad {item.registered_on}  gallras {item.purge_on}"
        )
    click.echo(f"{len(items)} anmälningar {verb}.")
    db.session.rollback()


def _dialogue_line(item: erasure.Due) -> str:
    """A dialogue as an erasure lists it: never who, only which dialogue and when."""
    cancelled = "  inställd" if item.cancelled else ""
    return (
        f"  dialog {item.dialogue_id}  {item.title}  {clock.local_date(item.starts_at)}"
        f"{cancelled}  gallringsdag {clock.local_date(item.erase_from)}"
    )


def _erase_class(
    data_class: str,
    *,
    due: Callable[[int], list[Any]],
    erase: Callable[[], list[Any]],
    now: datetime,
    dry_run: bool,
) -> list[Any] | None:
    """One class of dialogue data under its gallringsbeslut: what is (or would be) erased, or
    None when the class has no decision (said on stderr; nothing of it is touched)."""
    try:
        decision = erasure.decision_for(data_class, now=now)
        items = due(decision.retention_days) if dry_run else erase()
    except gallring.NoDecision as error:
        db.session.rollback()
        click.echo(f"  Gallring vägrad: {error}", err=True)
        return None
    click.echo(f"  {_decision_line(decision)}")
    return items


@retention_cli.command("dialogues")
@click.option("--dry-run", is_flag=True, help="Show what would be erased; change nothing.")
def retention_dialogues(dry_run: bool) -> None:
    """Erase registrants' details and askers' contact details N days after each dialogue, N
    from each class's gallringsbeslut (what the worker's daily retention round does). A class
    without a decision is refused (exit 1) and the other still runs."""
    now = clock.now()
    verb = "skulle gallras" if dry_run else "gallrade"
    click.echo("Anmälda (namn, e-post, telefon, behov):")
    registrants = _erase_class(
        gallring.DIALOGUE_REGISTRATIONS,
        due=lambda days: erasure.registrants_due(now=now, after_days=days),
        erase=lambda: erasure.erase_registrants(now=now),
        now=now,
        dry_run=dry_run,
    )
    if registrants is not None:
        for item in registrants:
            click.echo(f"{_dialogue_line(item)}  {item.count} anmälningar")
        click.echo(f"Anmälningar till {len(registrants)} dialoger {verb}.")
    click.echo("Frågeställare (namn och e-post):")
    contacts = _erase_class(
        gallring.QUESTION_CONTACTS,
        due=lambda days: erasure.contacts_due(now=now, after_days=days),
        erase=lambda: erasure.erase_contacts(now=now),
        now=now,
        dry_run=dry_run,
    )
    if contacts is not None:
        for item in contacts:
            waiting = f", {item.waiting} väntar" if item.waiting else ""
            click.echo(f"{_dialogue_line(item)}  {item.count} frågor{waiting}")
        click.echo(f"Kontaktuppgifter i {sum(item.count for item in contacts)} frågor {verb}.")
        if waiting_total := sum(item.waiting for item in contacts):
            click.echo(
                f"{waiting_total} frågor väntar: de är förseglade i ett stycke tills en medlem "
                "i Medborgardialog öppnar en frågesida."
            )
    refused = registrants is None or contacts is None
    db.session.rollback()
    if refused:
        raise SystemExit(1)


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run the scheduled jobs once (what the worker does every JOBS_INTERVAL_SECONDS)."""
    jobs.run_due()
    click.echo("Klart.")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Add a new application key and re-encrypt all protected data under it (online)."""
    version = appkeys.add_key()
    changed = appkeys.reencrypt()
    audit.record("keys_rotated", actor_id=None, actor="cli", version=version, rows=changed)
    db.session.commit()
    click.echo(f"Ny nyckelversion {version}; {changed} skyddade värden omkrypterade.")


@keys_cli.command("reencrypt")
def keys_reencrypt() -> None:
    """Re-encrypt what is still under an older key (run after every process has reloaded)."""
    click.echo(f"{appkeys.reencrypt()} skyddade värden omkrypterade.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write an encrypted backup of the database and the instance secrets to PATH (online).

    The passphrase comes from INTAKE_BACKUP_PASSPHRASE, else it is asked for twice."""
    try:
        manifest = backup.create(path, backup.check_passphrase(backup.passphrase(confirm=True)))
    except backup.BackupError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    click.echo(
        f"Säkerhetskopian är skriven: {path} ({manifest.dialect}, databasversion "
        f"{manifest.revision}, {manifest.tool}). Förvara den på en annan maskin och "
        "lösenfrasen på ett annat ställe."
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore a backup into the empty instance folder and database the environment names."""
    target = {
        "instance": Path(current_app.instance_path),
        "database_uri": current_app.config["SQLALCHEMY_DATABASE_URI"],
    }
    try:
        backup.preflight(path, **target)
        manifest = backup.restore(path, backup.passphrase(confirm=False), **target)
    except backup.BackupError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    click.echo(
        f"Återställt från säkerhetskopian {backup.created_at(manifest)} "
        f"(databasversion {manifest.revision}). Kör `flask --app intake db upgrade` om "
        "programmet är nyare, sedan `flask --app intake audit verify`."
    )


@metrics_cli.command("serve")
@click.option("--bind", default="127.0.0.1:9100", show_default=True, help="host:port")
def metrics_serve(bind: str) -> None:
    """Serve the metrics on their own address (no token: bind to loopback or an internal net)."""
    click.echo(f"Mätvärden på http://{bind}/metrics")
    metrics.serve(current_app._get_current_object(), bind)  # type: ignore[attr-defined]


def register(app: Flask) -> None:
    """Attach the commands."""
    for command in (
        setup_command,
        doctor_command,
        outbox_cli,
        drafts_cli,
        audit_cli,
        retention_cli,
        jobs_cli,
        keys_cli,
        backup_command,
        restore_command,
        metrics_cli,
    ):
        app.cli.add_command(command)
