"""The follow-up report to the local police area chief and BRÅ: per year, each commitment
with its evidence, the themes raised at the held dialogues (from their reports), and the
reasons recorded where a commitment falls short. A period that ends before its year has
ended is a "delår": it is judged as on its last day, by pace, never finally "not done".

Who the report is addressed to comes from the config key FOLLOWUP_REPORT_TO: a list of
{"name": optional, "sv": role in Swedish, "en": role in English}.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale

from intake import clock
from intake.dialogues.models import PLANNED, Dialogue, HeldReport
from intake.extensions import db
from intake.followup import progress
from intake.followup.models import BOTH_HOSTS, FROM_DIALOGUES, Activity

DEFAULT_ADDRESSEES: list[dict[str, str]] = [
    {
        "sv": "Chefen för lokalpolisområde Piteå älvdal",
        "en": "The head of the local police area Piteå älvdal",
    },
    {
        "sv": "Brottsförebyggande rådet (BRÅ) i Älvsbyn",
        "en": "The crime prevention council (BRÅ) of Älvsbyn",
    },
]
SHORTFALLS = (progress.BEHIND, progress.NOT_DONE)


def addressees() -> list[str]:
    """Who the report is for, in the page's language (Swedish when no English is set)."""
    language = str(getattr(get_locale(), "language", "sv") or "sv")
    entries: Sequence[Any] = current_app.config.get("FOLLOWUP_REPORT_TO") or DEFAULT_ADDRESSEES
    found = []
    for entry in entries:
        if isinstance(entry, str):
            found.append(entry)
            continue
        role = str(entry.get(language) or entry.get("sv") or "")
        name = str(entry.get("name") or "")
        found.append(f"{name}, {role}" if name and role else name or role)
    return [text for text in found if text]


def held_between(first: date, last: date) -> list[Dialogue]:
    """Dialogues reported held that started on the days first..last (Stockholm time)."""
    start = datetime.combine(first, time(0), tzinfo=clock.STOCKHOLM)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=clock.STOCKHOLM)
    return list(
        db.session.scalars(
            sa.select(Dialogue)
            .join(HeldReport, HeldReport.dialogue_id == Dialogue.id)
            .where(
                HeldReport.held.is_(True),
                Dialogue.status == PLANNED,  # published, not cancelled: never a draft
                Dialogue.starts_at >= start,
                Dialogue.starts_at < end,
            )
            .order_by(Dialogue.starts_at)
        )
    )


def joint(dialogue: Dialogue) -> bool:
    """Marked as hosted by both the police and the municipality."""
    return {"polisen", "kommunen"} <= set(dialogue.hosts or [])


def counted_dialogues(row: progress.Progress, window: progress.Window) -> list[Dialogue]:
    """The held dialogues that count for a dialogue commitment in its year."""
    span = window.overlap(date(row.year, 1, 1), date(row.year, 12, 31))
    if span is None or row.commitment.source != FROM_DIALOGUES:
        return []
    found = held_between(*span)
    if row.commitment.counting_rule == BOTH_HOSTS:
        found = [d for d in found if joint(d)]
    return found


@dataclass(frozen=True)
class ReportRow:
    """A commitment in a year, with its dated evidence in the period."""

    row: progress.Progress
    evidence: list[Activity]
    dialogues: list[Dialogue]


@dataclass(frozen=True)
class YearReport:
    """One year of the report."""

    year: int
    partial_until: date | None  # "delår t.o.m." this day; None for the whole year
    rows: list[ReportRow]
    themes: list[Dialogue]  # held dialogues of the period, with their reports' themes

    @property
    def shortfalls(self) -> list[progress.Progress]:
        """Commitments behind or not done, each with its recorded reason (or none)."""
        return [item.row for item in self.rows if item.row.status in SHORTFALLS]


def build(start: date, end: date, *, today: date) -> tuple[progress.Ledger, list[YearReport]]:
    """The report for the days start..end, as known today."""
    as_of = min(end, today)
    ledger = progress.Ledger(today=today, as_of=as_of)
    years = []
    for year in range(start.year, end.year + 1):
        first, last = max(start, date(year, 1, 1)), min(as_of, date(year, 12, 31))
        rows = []
        for row in ledger.year(year):
            evidence = db.session.scalars(
                sa.select(Activity)
                .where(
                    Activity.commitment_id == row.commitment.id,
                    Activity.occurred_on >= first,
                    Activity.occurred_on <= last,
                )
                .order_by(Activity.occurred_on)
            ).all()
            window = ledger.windows[row.commitment.promise_id]
            dialogues = [
                d
                for d in counted_dialogues(row, window)
                if first <= clock.local_date(d.starts_at) <= last
            ]
            rows.append(ReportRow(row, list(evidence), dialogues))
        partial = as_of if as_of < date(year, 12, 31) else None
        themes = held_between(first, last) if first <= last else []
        years.append(YearReport(year, partial, rows, themes))
    return ledger, years


# The CSV is read by people in a spreadsheet: Swedish words, not internal codes.
STATUS_WORDS = {
    progress.DONE: "klart",
    progress.ON_TRACK: "enligt plan",
    progress.BEHIND: "efter plan",
    progress.NOT_DONE: "inte uppfyllt",
    progress.CONTINUING: "pågående",
    progress.NOT_YET: "ej gjort ännu",
    progress.NO_ACTIVITY: "ingen aktivitet registrerad",
    progress.NO_DATA: "ingen uppföljning registrerad",
}
PARTY_WORDS = {"polisen": "Polisen", "kommunen": "Kommunen", "bada": "Polisen och kommunen"}
HOST_WORDS = {"polisen": "Polisen", "kommunen": "Kommunen"}


def safe(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection) in text typed by staff."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _period(report: YearReport) -> str:
    if report.partial_until is None:
        return "helår"
    return f"delår t.o.m. {report.partial_until.isoformat()}"


def to_csv(years: list[YearReport]) -> str:
    """One line per commitment and year; then, after a blank line, one per held dialogue
    with the themes raised there."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [
            "år",
            "område",
            "ansvarig",
            "åtagande",
            "mål",
            "utfört",
            "status",
            "underlag",
            "orsak",
            "nästa planerade",
            "period",
        ]
    )
    for report in years:
        for item in report.rows:
            row = item.row
            evidence = [f"{a.occurred_on.isoformat()} {a.place} ({a.count})" for a in item.evidence]
            evidence += [
                f"{clock.local_date(d.starts_at).isoformat()} {d.title}" for d in item.dialogues
            ]
            writer.writerow(
                [
                    row.year,
                    safe(row.commitment.area),
                    PARTY_WORDS.get(row.commitment.party, row.commitment.party),
                    safe(row.commitment.text),
                    row.target if row.target is not None else "",
                    row.done,
                    STATUS_WORDS.get(row.status, row.status),
                    safe(" | ".join(evidence)),
                    safe(row.reason),
                    row.next_planned_on.isoformat() if row.next_planned_on else "",
                    _period(report),
                ]
            )
    writer.writerow([])
    writer.writerow(["år", "datum", "dialog", "arrangörer", "teman som togs upp"])
    for report in years:
        for dialogue in report.themes:
            hosts = " och ".join(HOST_WORDS.get(h, h) for h in dialogue.hosts or [])
            writer.writerow(
                [
                    report.year,
                    clock.local_date(dialogue.starts_at).isoformat(),
                    safe(dialogue.title),
                    hosts,
                    safe(dialogue.report.themes_raised if dialogue.report else ""),
                ]
            )
    return buffer.getvalue()
