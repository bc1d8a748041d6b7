"""The administrator at /personal/admin/: users, inboxes and memberships, routing, audit,
gallringsbeslut."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import audit, audit_anchors, audit_names, bootstrap, clock, gallring, outbox
from intake.accounts import guard, service
from intake.accounts.admin_forms import (
    GrantForm,
    InboxForm,
    RetentionDecisionForm,
    RuleForm,
    UserForm,
)
from intake.accounts.forms import ROLE_LABELS, EmptyForm
from intake.accounts.models import ADMIN, Membership, User
from intake.crypto import CryptoError, custody
from intake.extensions import db
from intake.reports import assignment, choices
from intake.reports.models import Inbox, Report, RoutingRule

bp = Blueprint("admin", __name__, url_prefix="/personal/admin")
bp.before_request(guard.require_staff)


@bp.before_request
def _admins_only() -> None:
    if current_user.is_authenticated and current_user.role != ADMIN:
        abort(403)


def _log(action: str, target_type: str, target_id: object, **details: object) -> None:
    audit.record(
        action,
        actor_id=current_user.id,
        actor=current_user.email,
        target_type=target_type,
        target_id=str(target_id),
        **details,
    )


def get_user(user_id: int) -> User:
    """A user or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def get_inbox(inbox_id: int) -> Inbox:
    """An inbox or 404."""
    inbox = db.session.get(Inbox, inbox_id)
    if inbox is None:
        abort(404)
    return inbox


@bp.get("/anvandare")
def users() -> str:
    """All staff users."""
    everyone = db.session.scalars(sa.select(User).order_by(User.name)).all()
    return render_template(
        "admin/users.html",
        users=everyone,
        role_labels=ROLE_LABELS,
        form=EmptyForm(),
    )


@bp.route("/anvandare/ny", methods=["GET", "POST"])
def new_user() -> str:
    """Create a user; the one-time password is shown once."""
    form = UserForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(sa.select(User.id).where(User.email == email)):
            form.email.errors = [_("Det finns redan en användare med den e-postadressen.")]
        else:
            from intake.crypto import passwords

            password = passwords.one_time_password()
            user = bootstrap.create_user(email, form.name.data.strip(), form.role.data, password)
            user.active = bool(form.active.data)
            _log("user_created", "user", user.id, role=user.role)
            db.session.commit()
            return render_template(
                "admin/one_time_password.html", user=user, password=password, reset=False
            )
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/anvandare/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> str | Response:
    """Change name, role or whether the account is active."""
    user = get_user(user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        clash = db.session.scalar(sa.select(User.id).where(User.email == email, User.id != user.id))
        if clash:
            form.email.errors = [_("Det finns redan en användare med den e-postadressen.")]
        elif user.id == current_user.id and (form.role.data != ADMIN or not form.active.data):
            form.role.errors = [
                _("Du kan inte ta bort din egen administratörsroll eller stänga ditt eget konto.")
            ]
        else:
            user.name, user.email, user.role = form.name.data.strip(), email, form.role.data
            user.active = bool(form.active.data)
            if not user.active:
                from intake.accounts import sessions

                sessions.end_all_for(user.id)
            _log("user_changed", "user", user.id, role=user.role, active=user.active)
            db.session.commit()
            flash(_("Användaren är sparad."), "info")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/anvandare/<int:user_id>/aterstall", methods=["GET", "POST"])
def reset_user(user_id: int) -> str:
    """Reset a password: a new key pair, so the user loses inbox access until granted again."""
    user = get_user(user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        password = service.reset_password(
            user, by=current_user, cost=guard.argon2_cost(), throttle_key=guard.throttle_key()
        )
        return render_template(
            "admin/one_time_password.html", user=user, password=password, reset=True
        )
    memberships = db.session.scalars(
        sa.select(Inbox.name)
        .join(Membership, Membership.inbox_id == Inbox.id)
        .where(Membership.user_id == user.id)
    ).all()
    return render_template(
        "admin/reset_confirm.html", user=user, form=form, memberships=memberships
    )


@bp.get("/inkorgar")
def inboxes() -> str:
    """All inboxes with their members."""
    rows = db.session.scalars(sa.select(Inbox).order_by(Inbox.name)).all()
    members: dict[int, list[User]] = {inbox.id: [] for inbox in rows}
    for inbox_id, user in db.session.execute(  # one query for all inboxes, not one each
        sa.select(Membership.inbox_id, User)
        .join(Membership, Membership.user_id == User.id)
        .order_by(User.name, User.id)
    ):
        members.setdefault(inbox_id, []).append(user)
    return render_template(
        "admin/inboxes.html",
        inboxes=rows,
        members=members,
    )


@bp.route("/inkorgar/<int:inbox_id>", methods=["GET", "POST"])
def edit_inbox(inbox_id: int) -> str | Response:
    """Name, notification address, handling options; members and grants."""
    inbox = get_inbox(inbox_id)
    form = InboxForm(obj=inbox)
    if form.validate_on_submit():
        inbox.name = form.name.data.strip()
        inbox.notification_email = (form.notification_email.data or "").strip() or None
        inbox.require_eid_professional = bool(form.require_eid_professional.data)
        inbox.adult_outcomes = (form.adult_outcomes.data or "").strip() or None
        _log(
            "inbox_changed",
            "inbox",
            inbox.id,
            require_eid_professional=inbox.require_eid_professional,
        )
        db.session.commit()
        flash(_("Inkorgen är sparad."), "info")
        return redirect(url_for(".edit_inbox", inbox_id=inbox.id))
    return _render_inbox(inbox, form, _grant_form(inbox))


def _grant_form(inbox: Inbox, formdata: object = None) -> GrantForm:
    grant = GrantForm(formdata=formdata) if formdata is not None else GrantForm(formdata=None)
    members = set(
        db.session.scalars(sa.select(Membership.user_id).where(Membership.inbox_id == inbox.id))
    )
    grant.user_id.choices = [
        (u.id, f"{u.name} ({u.email})")
        for u in db.session.scalars(
            sa.select(User).where(User.active.is_(True)).order_by(User.name)
        )
        if u.id not in members
    ]
    return grant


def _render_inbox(inbox: Inbox, form: InboxForm, grant: GrantForm) -> str:
    members = db.session.scalars(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.inbox_id == inbox.id)
        .order_by(User.name)
    ).all()
    is_member = any(m.id == current_user.id for m in members)
    return render_template(
        "admin/inbox_form.html",
        inbox=inbox,
        form=form,
        grant=grant,
        members=members,
        is_member=is_member,
        empty=EmptyForm(),
    )


@bp.post("/inkorgar/<int:inbox_id>/medlemmar")
def grant(inbox_id: int) -> str | Response:
    """Grant membership: with the admin's own unlocked membership, or the recovery code."""
    inbox = get_inbox(inbox_id)
    form = _grant_form(inbox, request.form)
    if not form.validate():
        return _render_inbox(inbox, InboxForm(obj=inbox, formdata=None), form)
    member = get_user(form.user_id.data)
    try:
        secret = _unlock(inbox, form.recovery_code.data or "")
    except (service.AccessError, CryptoError):
        form.recovery_code.errors = [
            _("Du är inte medlem i inkorgen, och återställningskoden stämmer inte.")
        ]
        return _render_inbox(inbox, InboxForm(obj=inbox, formdata=None), form)
    service.grant(member, inbox.id, secret, by=current_user)
    db.session.commit()
    flash(_("%(name)s har nu tillgång till %(inbox)s.", name=member.name, inbox=inbox.name), "info")
    return redirect(url_for(".edit_inbox", inbox_id=inbox.id))


def _unlock(inbox: Inbox, recovery_code: str) -> custody.InboxSecret:
    if recovery_code.strip():
        return bootstrap.recover_inbox_secret(inbox, recovery_code)
    return service.inbox_secret(current_user, guard.private_key(), inbox.id)


@bp.post("/inkorgar/<int:inbox_id>/medlemmar/<int:user_id>/ta-bort")
def revoke(inbox_id: int, user_id: int) -> Response:
    """End a membership."""
    inbox, member = get_inbox(inbox_id), get_user(user_id)
    if not EmptyForm().validate():
        abort(400)
    service.revoke(member, inbox.id, by=current_user)
    released = assignment.release(member.id, inbox.id, by=current_user)
    db.session.commit()
    flash(
        _("%(name)s har inte längre tillgång till %(inbox)s.", name=member.name, inbox=inbox.name),
        "info",
    )
    if released:
        flash(
            ngettext(
                "%(num)d anmälan som var tilldelad %(name)s saknar nu handläggare.",
                "%(num)d anmälningar som var tilldelade %(name)s saknar nu handläggare.",
                released,
                name=member.name,
            ),
            "info",
        )
    return redirect(url_for(".edit_inbox", inbox_id=inbox.id))


def _rule_form(formdata: object = None) -> RuleForm:
    form = RuleForm(formdata=formdata) if formdata is not None else RuleForm(formdata=None)
    form.inbox_id.choices = [
        (i.id, i.name) for i in db.session.scalars(sa.select(Inbox).order_by(Inbox.name))
    ]
    return form


@bp.get("/routning")
def rules() -> str:
    """The routing rules in order, and a form for a new one."""
    return _render_rules(_rule_form())


def _render_rules(form: RuleForm) -> str:
    ordered = db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.position)).all()
    fallback = db.session.scalar(sa.select(Inbox).where(Inbox.is_fallback.is_(True)))
    return render_template(
        "admin/rules.html",
        rules=ordered,
        form=form,
        empty=EmptyForm(),
        fallback=fallback,
        subject_label=lambda code: choices.label_of(choices.SUBJECT_TYPES, code),
        reporter_label=lambda code: choices.label_of(choices.REPORTER_TYPES, code),
    )


@bp.post("/routning")
def add_rule() -> str | Response:
    """Add a rule at the end."""
    form = _rule_form(request.form)
    if not form.validate():
        return _render_rules(form)
    last = db.session.scalar(sa.select(sa.func.max(RoutingRule.position))) or 0
    rule = RoutingRule(
        position=last + 1,
        name=form.name.data.strip(),
        subject_type=form.subject_type.data or None,
        reporter_type=form.reporter_type.data or None,
        inbox_id=form.inbox_id.data,
    )
    db.session.add(rule)
    db.session.flush()
    _log("rule_added", "routing_rule", rule.id)
    db.session.commit()
    flash(_("Regeln är tillagd."), "info")
    return redirect(url_for(".rules"))


@bp.post("/routning/<int:rule_id>/<direction>")
def move_rule(rule_id: int, direction: str) -> Response:
    """Move a rule up or down, or delete it."""
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None or direction not in {"upp", "ner", "ta-bort"} or not EmptyForm().validate():
        abort(404)
    if direction == "ta-bort":
        db.session.delete(rule)
        _log("rule_deleted", "routing_rule", rule_id)
    else:
        ordered = list(db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.position)))
        index = ordered.index(rule)
        other = index - 1 if direction == "upp" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, item in enumerate(ordered, start=1):
                item.position = position
            _log("rule_moved", "routing_rule", rule_id, direction=direction)
    db.session.commit()
    return redirect(url_for(".rules"))


@bp.get("/logg")
def audit_log() -> str:
    """The audit trail with filters (who, what, which object, when)."""
    query = sa.select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc())
    actor = request.args.get("vem", "").strip()
    action = request.args.get("handelse", "").strip()
    target = request.args.get("objekt", "").strip()
    if actor:
        query = query.where(audit.AuditEvent.actor.contains(actor))
    if action:
        query = query.where(audit.AuditEvent.action == action)
    if target:
        # A report is found by its reference too (the log shows references, not ids).
        by_reference = db.session.scalar(sa.select(Report.id).where(Report.reference == target))
        query = query.where(audit.AuditEvent.target_id == (by_reference or target))
    page = max(request.args.get("sida", 1, type=int), 1)
    events = db.session.scalars(query.limit(100).offset((page - 1) * 100)).all()
    actions = db.session.scalars(
        sa.select(audit.AuditEvent.action).distinct().order_by(audit.AuditEvent.action)
    ).all()
    actions = sorted(actions, key=audit_names.event_name)
    verdict = audit_anchors.verify()
    return render_template(
        "admin/audit.html",
        events=events,
        actions=actions,
        references=report_references(events),
        event_name=audit_names.event_name,
        target_name=audit_names.target_name,
        filters={"vem": actor, "handelse": action, "objekt": target},
        page=page,
        verdict=verdict,
    )


@bp.post("/e-post/<int:message_id>/forsok-igen")
def requeue_mail(message_id: int) -> Response:
    """Give a failed mail a fresh round of attempts, if its address is still there."""
    if not EmptyForm().validate():
        abort(400)
    try:
        message = outbox.requeue(message_id)
    except outbox.NotFailed:
        abort(404)
    except outbox.NoRecipient:
        flash(
            _(
                "E-postmeddelandet kan inte skickas igen: mottagarens adress raderades när "
                "tjänsten gav upp. Ta bort det från listan och kontakta mottagaren på annat sätt."
            ),
            "error",
        )
        return redirect(url_for("staff.dashboard"))
    _log("failed_mail_requeued", "outbox", message.id, template=message.template)
    db.session.commit()
    flash(_("E-postmeddelandet skickas igen."), "info")
    return redirect(url_for("staff.dashboard"))


@bp.post("/e-post/<int:message_id>/ta-bort")
def dismiss_mail(message_id: int) -> Response:
    """Take a failed mail off the list (the audit log keeps what it was)."""
    if not EmptyForm().validate():
        abort(400)
    try:
        message = outbox.dismiss(message_id)
    except outbox.NotFailed:
        abort(404)
    _log(
        "failed_mail_dismissed",
        "outbox",
        message.id,
        template=message.template,
        error=message.last_error,
        created_at=message.created_at.isoformat(),
        failed_at=message.failed_at.isoformat() if message.failed_at else None,
    )
    db.session.commit()
    flash(_("E-postmeddelandet är borttaget från listan."), "info")
    return redirect(url_for("staff.dashboard"))


@dataclass(frozen=True)
class ReportReference:
    """How the log names a report: its reference, and whether its content is purged."""

    reference: str
    purged: bool


def report_references(events: Sequence[audit.AuditEvent]) -> dict[str, ReportReference]:
    """The references of the reports a page of events is about, in one query."""
    ids = {e.target_id for e in events if e.target_type == "report" and e.target_id}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Report.id, Report.reference, Report.purged_at).where(Report.id.in_(ids))
    )
    return {id_: ReportReference(ref, purged is not None) for id_, ref, purged in rows}


@bp.app_template_global("setup_placeholders")
def setup_placeholders() -> bootstrap.Placeholders:
    """Setup's stand-in addresses still in use (warned about once, on the admin's overview)."""
    return bootstrap.placeholders()


@bp.app_template_global("gallring_missing")
def gallring_missing() -> list[gallring.InformationClass]:
    """The information classes with no gallringsbeslut valid today (for the admin overview)."""
    return gallring.missing(on=clock.local_date(clock.now()))


@bp.route("/gallring", methods=["GET", "POST"])
def retention_decisions() -> str | Response:
    """Record a gallringsbeslut and list them all (history is kept; the newest valid applies)."""
    form = RetentionDecisionForm()
    if form.validate_on_submit():
        decision = gallring.record(
            form.information_class.data,
            reference=form.reference.data.strip(),
            decided_on=form.decided_on.data,
            decided_by=form.decided_by.data.strip(),
            retention_days=form.retention_days.data,
            valid_from=form.valid_from.data,
            now=clock.now(),
            recorded_by_id=current_user.id,
        )
        _log(
            "retention_decision_recorded",
            "retention_decision",
            decision.id,
            information_class=decision.information_class,
            reference=decision.reference,
            retention_days=decision.retention_days,
            valid_from=decision.valid_from.isoformat(),
        )
        db.session.commit()
        flash(_("Gallringsbeslutet är registrerat."), "info")
        return redirect(url_for(".retention_decisions"))
    today = clock.local_date(clock.now())
    return render_template(
        "admin/retention.html",
        form=form,
        classes=gallring.CLASSES,
        current={code: gallring.current(code, on=today) for code in gallring.CLASSES},
        decisions=gallring.history(),
    )
