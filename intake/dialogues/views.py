"""Residents at /dialoger: upcoming and past dialogues, sign-up, questions, self-service cancel."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from intake import appkeys, clock
from intake.accounts.forms import EmptyForm
from intake.dialogues import changes, questions, service
from intake.dialogues.forms import THEMES, ChangeRegistrationForm, QuestionForm, SignupForm
from intake.dialogues.models import (
    CANCELLED,
    DRAFT,
    Dialogue,
    HeldReport,
    Question,
    Registration,
)
from intake.extensions import db, limiter

bp = Blueprint("dialogues", __name__, url_prefix="/dialoger")


def links() -> service.MailLinks:
    """Mail links for this installation."""
    cfg = current_app.config
    return service.MailLinks(base_url=cfg["BASE_URL"], secret_key=str(cfg["SECRET_KEY"]))


def tag_secret() -> bytes:
    """The key for e-mail tags (one registration per e-mail and dialogue)."""
    return hashlib.sha256(
        b"intake:email-tag:" + str(current_app.config["SECRET_KEY"]).encode()
    ).digest()


def get_dialogue(dialogue_id: int) -> Dialogue:
    """A published dialogue or 404: a draft is nobody's business but the organisers'."""
    dialogue = db.session.get(Dialogue, dialogue_id)
    if dialogue is None or not service.public(dialogue):
        abort(404)
    return dialogue


def _limit() -> str:
    return str(current_app.config["RATELIMIT_SIGNUP"])


@bp.get("/")
def index() -> str:
    """Upcoming dialogues, then past ones with their published summaries."""
    now = clock.now()
    upcoming = db.session.scalars(
        sa.select(Dialogue)
        .where(Dialogue.ends_at >= now, Dialogue.status != DRAFT)
        .order_by(Dialogue.starts_at)
    ).all()
    past = db.session.scalars(
        sa.select(Dialogue)
        .join(HeldReport, HeldReport.dialogue_id == Dialogue.id)
        .where(Dialogue.ends_at < now, HeldReport.held.is_(True), Dialogue.status != DRAFT)
        .order_by(Dialogue.starts_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "dialogues/index.html", upcoming=upcoming, past=past, theme_labels=_theme_labels()
    )


def _theme_labels() -> dict[str, str]:
    return {choice.value: str(choice.label) for choice in THEMES}


def page_context(
    dialogue: Dialogue, *, signup: SignupForm | None = None, question: QuestionForm | None = None
) -> dict[str, Any]:
    """What the public page shows. A draft is shown (to organisers, in the preview) as it
    will be once published."""
    now = clock.now()
    published = db.session.scalars(
        sa.select(Question)
        .where(Question.dialogue_id == dialogue.id, Question.published_at.is_not(None))
        .order_by(Question.published_at)
    ).all()
    as_published = dialogue.status == DRAFT
    return {
        "dialogue": dialogue,
        "seats_left": service.public_seats(dialogue),
        "seats_held": (service.seats_left(dialogue) or 0) - (service.public_seats(dialogue) or 0),
        "signup_open": service.signup_open(dialogue, now=now)
        or (as_published and dialogue.starts_at > now),
        "questions_open": dialogue.accepts_questions
        and dialogue.status != CANCELLED
        and dialogue.starts_at > now,
        "signup": signup or SignupForm(formdata=None),
        "question": question or QuestionForm(formdata=None),
        "published": published,
        "past": dialogue.ends_at < now,
        "held": service.held(dialogue, now=now),
        "theme_labels": _theme_labels(),
        "preview": False,
    }


def _page(
    dialogue: Dialogue, *, signup: SignupForm | None = None, question: QuestionForm | None = None
) -> str:
    return render_template(
        "dialogues/dialogue.html", **page_context(dialogue, signup=signup, question=question)
    )


@bp.get("/<int:dialogue_id>")
def show(dialogue_id: int) -> str:
    """One dialogue: when, where, seats left (a hint), sign-up and questions."""
    return _page(get_dialogue(dialogue_id))


@bp.post("/<int:dialogue_id>/anmalan")
@limiter.limit(_limit)
def signup(dialogue_id: int) -> str | Response:
    """Sign up; confirmed or waiting list, told which."""
    dialogue = get_dialogue(dialogue_id)
    form = SignupForm()
    if not form.validate():
        return _page(dialogue, signup=form)
    person = service.Person(
        name=form.name.data.strip(),
        email=form.email.data.strip(),
        phone=(form.phone.data or "").strip(),
        needs=(form.needs.data or "").strip(),
    )
    try:
        result = service.register(
            dialogue,
            person,
            party_size=form.party_size.data,
            locale=str(get_locale()),
            keys=appkeys.keys(),
            tag_secret=tag_secret(),
            links=links(),
        )
    except service.SignupError as error:
        if error.reason == "too_large":
            form.party_size.errors = [
                ngettext(
                    "Dialogen har bara %(num)d plats. Anmäl färre personer.",
                    "Dialogen har bara %(num)d platser. Anmäl färre personer.",
                    dialogue.capacity or 0,
                )
            ]
        else:
            form.name.errors = [_("Anmälan är stängd för den här dialogen.")]
        return _page(dialogue, signup=form)
    return redirect(
        url_for(
            ".registered",
            dialogue_id=dialogue.id,
            status="bekraftad" if result.position is None else f"reserv-{result.position}",
        ),
        code=303,
    )


@bp.get("/<int:dialogue_id>/anmald/<status>")
def registered(dialogue_id: int, status: str) -> str:
    """After signing up: confirmed, or the place in the waiting list."""
    dialogue = get_dialogue(dialogue_id)
    position = None
    if status.startswith("reserv-") and status[7:].isdecimal():
        position = int(status[7:])
    elif status != "bekraftad":
        abort(404)
    return render_template("dialogues/registered.html", dialogue=dialogue, position=position)


@bp.post("/<int:dialogue_id>/fraga")
@limiter.limit(_limit)
def ask(dialogue_id: int) -> str | Response:
    """Send a question before the dialogue (sealed)."""
    dialogue = get_dialogue(dialogue_id)
    form = QuestionForm()
    if not (
        dialogue.accepts_questions
        and dialogue.status != CANCELLED
        and dialogue.starts_at > clock.now()
    ):
        abort(404)
    if not form.validate():
        return _page(dialogue, question=form)
    questions.submit_question(
        dialogue,
        text=form.text.data.strip(),
        theme=form.theme.data or "",
        name=(form.name.data or "").strip(),
        email=(form.email.data or "").strip(),
    )
    return redirect(url_for(".asked", dialogue_id=dialogue.id), code=303)


@bp.get("/<int:dialogue_id>/fraga-skickad")
def asked(dialogue_id: int) -> str:
    """Thanks for the question."""
    return render_template("dialogues/asked.html", dialogue=get_dialogue(dialogue_id))


@bp.route("/avboka/<token>", methods=["GET", "POST"])
def cancel(token: str) -> str | Response:
    """Self-service cancel from the mail's link: confirm on a page, then cancel (POST)."""
    registration_id = links().registration_id(token)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        return render_template("dialogues/cancel_invalid.html"), 404  # type: ignore[return-value]
    dialogue = get_dialogue(registration.dialogue_id)
    form = EmptyForm()
    if form.validate_on_submit():
        outcome = service.cancel(registration, keys=appkeys.keys(), links=links())
        return render_template("dialogues/cancelled.html", dialogue=dialogue, freed=outcome.freed)
    return render_template(
        "dialogues/cancel_confirm.html",
        dialogue=dialogue,
        registration=registration,
        form=form,
        token=token,
    )


_CHANGE_ERRORS = {
    "closed": _l("Anmälan kan inte ändras längre: dialogen har börjat eller är inställd."),
    "erased": _l("Anmälans uppgifter är raderade och kan inte ändras."),
    "cancelled": _l("Anmälan är avbokad och kan inte ändras."),
}


@bp.route("/andra-anmalan/<token>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def change(token: str) -> str | Response:
    """Change party size or needs from the mail's link (the cancel link's token)."""
    registration_id = links().registration_id(token)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        return render_template("dialogues/cancel_invalid.html"), 404  # type: ignore[return-value]
    dialogue = get_dialogue(registration.dialogue_id)
    person = service.person_of(registration, appkeys.keys())
    form = ChangeRegistrationForm(
        data={"party_size": registration.party_size, "needs": person.needs if person else ""}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            changes.change_registration(
                registration,
                party_size=form.party_size.data,
                needs=(form.needs.data or "").strip(),
                keys=appkeys.keys(),
                links=links(),
            )
        except changes.ChangeError as error:
            form.party_size.errors = [_change_error(error, dialogue)]
        else:
            return redirect(url_for(".changed", token=token), code=303)
    return render_template(
        "dialogues/change.html", dialogue=dialogue, registration=registration, form=form
    )


def _change_error(error: changes.ChangeError, dialogue: Dialogue) -> str:
    if error.reason == "no_seats":
        return str(
            ngettext(
                "Det finns inte plats för fler. Ni kan vara högst %(num)d person.",
                "Det finns inte plats för fler. Ni kan vara högst %(num)d personer.",
                error.free,
            )
        )
    if error.reason == "too_large":
        return str(
            ngettext(
                "Dialogen har bara %(num)d plats. Anmäl färre personer.",
                "Dialogen har bara %(num)d platser. Anmäl färre personer.",
                dialogue.capacity or 0,
            )
        )
    return str(_CHANGE_ERRORS[error.reason])


@bp.get("/andra-anmalan/<token>/klart")
def changed(token: str) -> str:
    """After a change: what the registration is now."""
    registration_id = links().registration_id(token)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        abort(404)
    return render_template(
        "dialogues/changed.html",
        dialogue=get_dialogue(registration.dialogue_id),
        registration=registration,
        token=token,
    )
