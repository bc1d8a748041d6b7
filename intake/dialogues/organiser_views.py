"""The organiser's toolkit on the organiser blueprint: preview and publish a draft, add a
walk-in at the door, give a waiting registration a seat by hand, message the registrants, and
answer an asker by mail. Each view validates, calls one service function and redirects."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import appkeys
from intake.accounts.forms import EmptyForm
from intake.dialogues import organising, service
from intake.dialogues import questions as asked
from intake.dialogues.forms import AskerAnswerForm, MessageForm, PromoteForm, WalkInForm
from intake.dialogues.models import Question, Registration
from intake.dialogues.staff_views import _question_secret, bp, get_dialogue, render_show
from intake.dialogues.views import links, page_context
from intake.extensions import db


def _by() -> dict[str, object]:
    return {"by_id": current_user.id, "by": current_user.email}


@bp.get("/<int:dialogue_id>/forhandsvisning")
def preview(dialogue_id: int) -> str:
    """The public page as residents will see it, with a banner; for drafts above all."""
    dialogue = get_dialogue(dialogue_id)
    return render_template(
        "dialogues/dialogue.html", **(page_context(dialogue) | {"preview": True})
    )


@bp.post("/<int:dialogue_id>/publicera")
def publish_dialogue(dialogue_id: int) -> Response:
    """Publish a draft: it appears on the public pages and opens for sign-up as set."""
    dialogue = get_dialogue(dialogue_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        organising.publish(dialogue, **_by())  # type: ignore[arg-type]
    except organising.NotDraftError:
        flash(_("Dialogen är redan publicerad."), "info")
    else:
        flash(_("Dialogen är publicerad."), "info")
    return redirect(url_for(".show", dialogue_id=dialogue.id))


@bp.post("/<int:dialogue_id>/pa-plats")
def walk_in(dialogue_id: int) -> str | Response:
    """Add someone who came to the door; confirmed and checked in."""
    dialogue = get_dialogue(dialogue_id)
    form = WalkInForm()
    if form.validate():
        try:
            organising.add_walk_in(
                dialogue,
                organising.WalkIn(
                    name=(form.name.data or "").strip(), party_size=form.party_size.data
                ),
                over_capacity=bool(form.over_capacity.data),
                keys=appkeys.keys(),
                **_by(),  # type: ignore[arg-type]
            )
        except service.OverCapacityError as error:
            form.over_capacity.errors = [
                ngettext(
                    "Det finns bara %(num)d ledig plats. Kryssa i rutan för att ta in dem ändå.",
                    "Det finns bara %(num)d lediga platser. Kryssa i rutan för att ta in dem ändå.",
                    error.free,
                )
            ]
        except organising.NotOpenError:
            form.party_size.errors = [_("Dialogen är inte publicerad eller är inställd.")]
        else:
            flash(_("Personen är tillagd och incheckad."), "info")
            return redirect(url_for(".show", dialogue_id=dialogue.id) + "#incheckning")
    return render_show(dialogue, walk_in=form)


@bp.post("/<int:dialogue_id>/reservlista/<int:registration_id>")
def promote(dialogue_id: int, registration_id: int) -> Response:
    """Give a seat to one registration on the waiting list, chosen by the organiser."""
    dialogue = get_dialogue(dialogue_id)
    registration = db.session.get(Registration, registration_id)
    form = PromoteForm()
    if registration is None or registration.dialogue_id != dialogue.id or not form.validate():
        abort(404)
    try:
        service.promote_chosen(
            registration,
            over_capacity=bool(form.over_capacity.data),
            keys=appkeys.keys(),
            links=links(),
            **_by(),  # type: ignore[arg-type]
        )
    except service.NotWaitingError:
        flash(_("Anmälan står inte längre på reservlistan."), "error")
    except service.OverCapacityError as error:
        flash(
            ngettext(
                "Det finns bara %(num)d ledig plats. Kryssa i rutan för att ge platsen ändå.",
                "Det finns bara %(num)d lediga platser. Kryssa i rutan för att ge platsen ändå.",
                error.free,
            ),
            "error",
        )
    else:
        flash(_("Anmälan har fått en plats och får ett mejl om det."), "info")
    return redirect(url_for(".show", dialogue_id=dialogue.id) + f"#r{registration_id}")


@bp.route("/<int:dialogue_id>/meddelande", methods=["GET", "POST"])
def message(dialogue_id: int) -> str | Response:
    """Write to the registrants: first a preview with the number of recipients, then send."""
    dialogue = get_dialogue(dialogue_id)
    form = MessageForm()
    count = None
    if form.validate_on_submit():
        if request.form.get("action") == "send":
            sent = organising.send_message(
                dialogue,
                audience=form.audience.data,
                subject=form.subject.data.strip(),
                body=form.body.data.strip(),
                keys=appkeys.keys(),
                links=links(),
                **_by(),  # type: ignore[arg-type]
            )
            flash(
                ngettext(
                    "Meddelandet skickas till %(num)d person.",
                    "Meddelandet skickas till %(num)d personer.",
                    sent,
                ),
                "info",
            )
            return redirect(url_for(".show", dialogue_id=dialogue.id))
        count = len(organising.recipients(dialogue, form.audience.data))
    return render_template("organiser/message.html", dialogue=dialogue, form=form, count=count)


@bp.post("/<int:dialogue_id>/fragor/<question_id>/svara")
def answer(dialogue_id: int, question_id: str) -> Response:
    """Mail an answer to the person who asked, when they left an address."""
    dialogue = get_dialogue(dialogue_id)
    question = db.session.get(Question, question_id)
    private = _question_secret()
    if question is None or question.dialogue_id != dialogue.id or private is None:
        abort(404)
    form = AskerAnswerForm()
    if not form.validate():
        flash(_("Skriv svaret innan du skickar det."), "error")
    else:
        try:
            asked.answer_asker(
                question,
                private,
                answer=form.answer.data.strip(),
                dialogue_url=f"{links().base_url}/dialoger/{dialogue.id}",
                **_by(),  # type: ignore[arg-type]
            )
        except asked.NoAddress:
            flash(
                _("Den som frågade lämnade ingen e-postadress, så svaret kan inte mejlas."), "error"
            )
        else:
            flash(_("Svaret skickas till den som frågade."), "info")
    return redirect(url_for(".questions", dialogue_id=dialogue.id) + f"#q{question.id}")
