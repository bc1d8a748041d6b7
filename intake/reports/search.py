"""Finding a report on the staff side: by reference, or by personnummer where the law allows.

By reference: the typed reference, normalised (case, spaces, dashes), among the reports of
the inboxes the caseworker is a member of. A reference elsewhere answers exactly like one
that does not exist.

By personnummer: only through the blind index (intake.reports.linking). For each of the
caseworker's inboxes that takes reports linking is allowed for (intake.law.LINKABLE_SUBJECTS,
by the inbox's routing rules), the server unlocks the inbox secret of this session, computes
the HMAC tag of the typed number with its linking key and looks up reports of that inbox with
an equal tag and a linkable subject. Nothing is asked of any other inbox, so the answer never
tells whether the person was reported anywhere the caseworker cannot read; the number itself
is neither stored, logged nor audited. A report gets its tag when first opened, so reports
nobody has opened yet are not found this way (the page says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from intake import clock, law
from intake.crypto import custody
from intake.extensions import db
from intake.reports import linking
from intake.reports.identity import IdentityNumberError, parse_identity_number
from intake.reports.models import Report, RoutingRule

_REFERENCE = re.compile(r"([0-9]{4})([A-Z0-9]{4})([A-Z0-9]{4})", re.ASCII)
MAX_RESULTS = 50


def normalise_reference(text: str) -> str | None:
    """A typed reference in its stored form (2026-K7QH-3XMP), or None if it cannot be one."""
    compact = re.sub(r"[\s\-–]", "", text).upper()
    match = _REFERENCE.fullmatch(compact)
    return "-".join(match.groups()) if match else None


def by_reference(text: str, inbox_ids: Sequence[int]) -> list[Report]:
    """The report with this reference, if it is in one of these inboxes."""
    reference = normalise_reference(text)
    if reference is None or not inbox_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Report).where(Report.reference == reference, Report.inbox_id.in_(inbox_ids))
        )
    )


def linkable_inboxes(inbox_ids: Sequence[int]) -> list[int]:
    """Those of these inboxes that take reports the law allows linking for (routing rules)."""
    rules = db.session.execute(
        sa.select(RoutingRule.inbox_id, RoutingRule.subject_type).where(
            RoutingRule.inbox_id.in_(inbox_ids)
        )
    )
    return sorted(
        {inbox_id for inbox_id, subject in rules if subject is None or linking.allowed(subject)}
    )


def check_personnummer(text: str) -> None:
    """Raise IdentityNumberError unless the text is a valid personnummer or samordningsnummer."""
    parse_identity_number(text, today=clock.local_date(clock.now()))


def by_personnummer(
    text: str, inbox_ids: Sequence[int], unlock: Callable[[int], custody.InboxSecret | None]
) -> list[Report]:
    """Reports about this person in those of these inboxes where linking is allowed, by the
    blind index; `unlock` gives this session's secret of an inbox. IdentityNumberError if the
    number is not valid."""
    check_personnummer(text)
    today = clock.local_date(clock.now())
    found: list[Report] = []
    for inbox_id in linkable_inboxes(inbox_ids):
        secret = unlock(inbox_id)
        if secret is None:
            continue
        tag = linking.tag_for(text, secret.link_key, today=today)
        if tag is None:  # pragma: no cover - check_personnummer parsed it above
            raise IdentityNumberError("format")
        found += db.session.scalars(
            sa.select(Report)
            .where(
                Report.inbox_id == inbox_id,
                Report.link_tag == tag,
                Report.subject_type.in_(sorted(law.LINKABLE_SUBJECTS)),
            )
            .order_by(Report.received_at.desc())
            .limit(MAX_RESULTS)
        )
    return sorted(found, key=lambda r: r.received_at, reverse=True)[:MAX_RESULTS]
