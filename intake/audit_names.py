"""What the audit log's event codes (`AuditEvent.action`) are called in the admin's log.

ONE table: every code the code base records has a Swedish name here (a test walks the emit
sites). A code with no name (one from an older release) is shown as itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

EVENT_NAMES: dict[str, LazyString] = {
    # Staff accounts and sign-in
    "login": _l("Inloggning"),
    "login_failed": _l("Misslyckad inloggning"),
    "logout": _l("Utloggning"),
    "totp_enrolled": _l("Tvåstegsverifiering aktiverad"),
    "password_changed": _l("Lösenord bytt"),
    "password_change_failed": _l("Misslyckat lösenordsbyte"),
    "password_reset": _l("Lösenord återställt av administratör"),
    "user_created": _l("Användare skapad"),
    "user_changed": _l("Användare ändrad"),
    "membership_granted": _l("Tillgång till inkorg given"),
    "membership_revoked": _l("Tillgång till inkorg borttagen"),
    # Administration
    "inbox_changed": _l("Inkorg ändrad"),
    "rule_added": _l("Routningsregel tillagd"),
    "rule_moved": _l("Routningsregel flyttad"),
    "rule_deleted": _l("Routningsregel borttagen"),
    "retention_decision_recorded": _l("Gallringsbeslut registrerat"),
    "failed_mail_requeued": _l("Misslyckad e-post skickas igen"),
    "failed_mail_dismissed": _l("Misslyckad e-post borttagen från listan"),
    "audit_key_rotated": _l("Granskningsloggens nyckel bytt"),
    "keys_rotated": _l("Applikationsnyckel bytt"),
    # Reports (orosanmälningar)
    "report_viewed": _l("Anmälan öppnad"),
    "report_printed": _l("Anmälan utskriven"),
    "report_moved": _l("Anmälan flyttad till annan inkorg"),
    "case_note_added": _l("Anteckning tillagd"),
    "report_search": _l("Sökning bland anmälningar"),
    "report_assigned": _l("Anmälan tilldelad handläggare"),
    "dialogue_published": _l("Dialog publicerad"),
    "question_answered": _l("Fråga besvarad"),
    "registrants_messaged": _l("Meddelande skickat till anmälda"),
    "registration_changed": _l("Anmälan till dialog ändrad"),
    "registration_promoted": _l("Flyttad från reservlistan"),
    "walk_in_added": _l("Deltagare tillagd vid dörren"),
    "report_unassigned": _l("Handläggare borttagen från anmälan"),
    "assessment_recorded": _l("Skyddsbedömning registrerad"),
    "decision_recorded": _l("Beslut registrerat"),
    "registered": _l("Registrerad i verksamhetssystemet"),
    "outcome_recorded": _l("Handläggningsläge registrerat"),
    "feedback_sent": _l("Återkoppling skickad"),
    "reporter_added_information": _l("Anmälaren har lagt till uppgifter"),
    "channel_question_sent": _l("Fråga till anmälaren skickad"),
    "channel_answer_received": _l("Svar från anmälaren mottaget"),
    "report_purged": _l("Anmälan gallrad"),
    # Medborgardialoger
    "dialogue_created": _l("Dialog skapad"),
    "dialogue_changed": _l("Dialog ändrad"),
    "dialogue_cancelled": _l("Dialog inställd"),
    "dialogue_report_recorded": _l("Genomförd dialog rapporterad"),
    "registrations_viewed": _l("Anmälda deltagare visade"),
    "registrations_erased": _l("Anmälda deltagare raderade"),
    "attendees_exported": _l("Deltagarlista exporterad"),
    "attendee_list_printed": _l("Deltagarlista utskriven"),
    "questions_viewed": _l("Frågor visade"),
    "questions_resealed": _l("Frågor omkrypterade"),
    "question_published": _l("Fråga publicerad"),
    "question_withdrawn": _l("Fråga tillbakadragen"),
    "question_contacts_erased": _l("Kontaktuppgifter till frågor raderade"),
    # Uppföljning of the promise
    "promise_created": _l("Medborgarlöfte skapat"),
    "activity_added": _l("Aktivitet registrerad"),
    "activity_changed": _l("Aktivitet ändrad"),
    "activity_deleted": _l("Aktivitet borttagen"),
    "counting_rule_changed": _l("Räkneregel ändrad"),
    "commitment_done_earlier": _l("Åtagande markerat som redan gjort"),
    "reason_saved": _l("Kommentar till åtagande sparad"),
}


def event_name(code: str) -> str:
    """The Swedish name of an event code (the code itself when it has none)."""
    name = EVENT_NAMES.get(code)
    return str(name) if name is not None else code


TARGET_NAMES: dict[str, LazyString] = {
    "report": _l("Anmälan"),
    "user": _l("Användare"),
    "inbox": _l("Inkorg"),
    "routing_rule": _l("Routningsregel"),
    "retention_decision": _l("Gallringsbeslut"),
    "outbox": _l("E-post"),
    "dialogue": _l("Dialog"),
    "promise": _l("Medborgarlöfte"),
    "commitment": _l("Åtagande"),
    "activity": _l("Aktivitet"),
}


def target_name(kind: str | None) -> str:
    """The Swedish name of what an event was about (the code itself when it has none)."""
    if not kind:
        return ""
    name = TARGET_NAMES.get(kind)
    return str(name) if name is not None else kind
