"""The inbox's filters read from its query string (issue 13 §2): what was understood, and
whether any value was not. An unknown value is left out and the page says so; no query
string is ever an error page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from intake.reports import triage as triage_rules
from intake.reports.listing import AGE_GROUPS, DEADLINE_FILTERS, UNKNOWN, Triage


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's filters read from a query string: what was understood, and whether any
    value was not (it is then left out, and the page says so)."""

    status: str | None
    inbox_id: int | None
    acute: str | None
    triage: Triage
    ignored: bool
    assignee: str | None = None  # as in the query string: "mina", "ingen" or a user id

    def args(self) -> dict[str, str | int]:
        """The filters as query-string arguments (for the pagination links and the form)."""
        t = self.triage
        found: dict[str, str | int | None] = {
            "status": self.status,
            "inkorg": self.inbox_id,
            "akut": self.acute,
            "alder": t.age,
            "anmalare": t.reporter,
            "oro": t.concern,
            "handlaggare": self.assignee,
            "frist": t.deadline,
        }
        return {key: value for key, value in found.items() if value is not None}


def _one_of(value: str | None, allowed: Sequence[str]) -> tuple[str | None, bool]:
    """The value if allowed, else None; and whether a non-empty value was refused."""
    if not value:
        return None, False
    return (value, False) if value in allowed else (None, True)


def read_query(
    args: Mapping[str, str],
    *,
    inbox_ids: Sequence[int],
    statuses: Sequence[str],
    me: int,
    assignable: Sequence[int],
    today: date,
) -> InboxQuery:
    """The inbox filters in a query string; an unknown value is ignored (never an error page)."""
    refused = []
    status, bad = _one_of(args.get("status"), statuses)
    refused.append(bad)
    acute, bad = _one_of(args.get("akut"), ("ja", "nej", "vet_ej"))
    refused.append(bad)
    age, bad = _one_of(args.get("alder"), (*AGE_GROUPS, UNKNOWN))
    refused.append(bad)
    reporter, bad = _one_of(args.get("anmalare"), (*triage_rules.REPORTER_KINDS, UNKNOWN))
    refused.append(bad)
    concern, bad = _one_of(args.get("oro"), (*triage_rules.CONCERN_GROUPS, UNKNOWN))
    refused.append(bad)
    deadline, bad = _one_of(args.get("frist"), DEADLINE_FILTERS)
    refused.append(bad)
    chosen = _small_int(args.get("inkorg"))
    inbox_id = chosen if chosen in inbox_ids else None
    refused.append(bool(args.get("inkorg")) and inbox_id is None)
    wanted = args.get("handlaggare") or ""
    assignee: int | None = None
    if wanted == "mina":
        assignee = me
    elif wanted == "ingen":
        assignee = 0
    elif wanted:
        number = _small_int(wanted)
        assignee = number if number in assignable else None
        refused.append(assignee is None)
    return InboxQuery(
        status=status,
        inbox_id=inbox_id,
        acute=acute,
        triage=Triage(
            age=age,
            reporter=reporter,
            concern=concern,
            assignee=assignee,
            deadline=deadline,
            today=today,
        ),
        ignored=any(refused),
        assignee=None if assignee is None else wanted,
    )


def _small_int(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None
