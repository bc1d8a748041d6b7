"""Staff sign-in at /personal/: password, second factor (TOTP or backup code), sign-out."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import audit, clock
from intake.accounts import guard, service, sessions
from intake.accounts.forms import ChangePasswordForm, CodeForm, EmptyForm, LoginForm
from intake.crypto import CryptoError
from intake.extensions import db, limiter

bp = Blueprint("staff_auth", __name__, url_prefix="/personal")


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _second_factor_limit() -> str:
    return str(current_app.config["RATELIMIT_SECOND_FACTOR"])


def _wait_message(delayed: service.LoginDelayed) -> str:
    return str(
        ngettext(
            "För många misslyckade försök. Vänta %(num)d sekund och försök igen.",
            "För många misslyckade försök. Vänta %(num)d sekunder och försök igen.",
            delayed.seconds,
        )
    )


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    """Step one: e-mail and password."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form)
    try:
        signed_in = service.authenticate(
            form.email.data, form.password.data, throttle_key=guard.throttle_key()
        )
    except service.LoginDelayed as delayed:
        form.password.errors = [_wait_message(delayed)]
        return render_template("staff/login.html", form=form), 429  # type: ignore[return-value]
    except (service.LoginError, CryptoError):
        form.password.errors = [_("Fel e-postadress eller lösenord.")]
        return render_template("staff/login.html", form=form)
    # A new session at every sign-in: nothing from before survives (session fixation).
    next_path = request.args.get("next", "")
    language = session.get("lang")
    if session.get(guard.COOKIE):
        # A sign-in replaces this browser's earlier session; its row must not outlive it.
        sessions.end(session[guard.COOKIE])
    session.clear()
    if language:
        session["lang"] = language
    session[guard.COOKIE] = sessions.start(
        signed_in.user, signed_in.private_key, timeouts=guard.timeouts()
    )
    session["next"] = next_path if next_path.startswith("/personal/") else ""
    db.session.commit()
    if signed_in.user.totp_enrolled_at is None:
        return redirect(url_for(".enrol"))
    return redirect(url_for(".second_factor"))


def _pending() -> sessions.ActiveSession | None:
    return guard.active_session()


@bp.route("/tvastegsverifiering", methods=["GET", "POST"])
@limiter.limit(_second_factor_limit, methods=["POST"])
def second_factor() -> str | Response:
    """Step two: a code from the authenticator app, or a backup code."""
    active = _pending()
    if active is None:
        return redirect(url_for(".login"))
    if active.user.totp_enrolled_at is None:
        return redirect(url_for(".enrol"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("staff/second_factor.html", form=form)
    try:
        kind = service.verify_second_factor(
            active.user, form.code.data, guard.app_keys(), pepper=guard.pepper()
        )
    except service.LoginDelayed as delayed:
        form.code.errors = [_wait_message(delayed)]
        return render_template("staff/second_factor.html", form=form), 429  # type: ignore[return-value]
    except service.SecondFactorError:
        form.code.errors = [_("Koden stämmer inte. Försök igen med en ny kod.")]
        return render_template("staff/second_factor.html", form=form)
    return _complete(active, kind)


def _complete(active: sessions.ActiveSession, kind: str) -> Response:
    active.row.second_factor_at = clock.now()
    active.user.last_login_at = clock.now()
    audit.record(
        "login",
        actor_id=active.user.id,
        actor=active.user.email,
        target_type="user",
        target_id=active.user.id,
        factor=kind,
    )
    db.session.commit()
    target = session.pop("next", "") or url_for("staff.dashboard")
    return redirect(target)


@bp.route("/tvastegsverifiering/aktivera", methods=["GET", "POST"])
def enrol() -> str | Response:
    """First sign-in: set up the authenticator app (QR code drawn on the server, no JS)."""
    active = _pending()
    if active is None:
        return redirect(url_for(".login"))
    if active.user.totp_enrolled_at is not None:
        # Already enrolled: a GET here would replace the secret and clear the enrolment, so
        # a signed-in user lured to this page would hand the second factor to whoever knows
        # the password (their next sign-in would offer a fresh enrolment).
        done = active.second_factor_done
        return redirect(url_for("staff.dashboard" if done else ".second_factor"))
    form = CodeForm()
    if request.method == "GET" or active.user.totp_secret is None:
        secret = service.begin_totp_enrolment(active.user, guard.app_keys())
    else:
        secret = service.totp_secret(active.user, guard.app_keys())
    if form.validate_on_submit():
        try:
            codes = service.confirm_totp_enrolment(
                active.user, form.code.data, guard.app_keys(), pepper=guard.pepper()
            )
        except service.SecondFactorError:
            form.code.errors = [
                _("Koden stämmer inte. Kontrollera klockan i telefonen och försök igen.")
            ]
        else:
            _complete(active, "totp")
            # Shown once, in this response only: never stored in the clear.
            return render_template("staff/backup_codes.html", codes=codes)
    uri = service.provisioning_uri(active.user, secret)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title=_("QR-kod för appen"))
    return render_template("staff/enrol.html", form=form, qr=qr, secret=secret)


@bp.route("/byt-losenord", methods=["GET", "POST"])
def change_password() -> str | Response:
    """Choose a new password (required after a reset), giving the current one first; the key
    is re-wrapped, access kept."""
    active = guard.active_session()
    if active is None or not current_user.is_authenticated:
        return redirect(url_for(".login"))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = service.change_password(
                current_user,
                form.current_password.data,
                form.password.data,
                active.private_key(),
                keep_session_id=active.row.id,
                idle=guard.timeouts().idle,
                throttle_key=guard.throttle_key(),
                cost=guard.argon2_cost(),
            )
        except service.LoginDelayed as delayed:
            form.current_password.errors = [_wait_message(delayed)]
            page = render_template("staff/change_password.html", form=form)
            return page, 429  # type: ignore[return-value]
        except service.CurrentPasswordWrong:
            form.current_password.errors = [
                _("Lösenordet stämmer inte. Skriv det lösenord som du loggade in med.")
            ]
        except service.PasswordRejected as rejected:
            form.password.errors = list(rejected.problems)
        else:
            flash(_password_changed(ended), "info")
            return redirect(url_for("staff.dashboard"))
    return render_template("staff/change_password.html", form=form)


def _password_changed(ended: int) -> str:
    """The notice after a password change, naming the sessions it signed out."""
    changed: str = _("Lösenordet är bytt.")
    if not ended:
        return changed
    signed_out: str = ngettext(
        "Du är utloggad på %(num)d annan enhet.", "Du är utloggad på %(num)d andra enheter.", ended
    )
    return f"{changed} {signed_out}"


@bp.post("/logga-ut")
def logout() -> Response:
    """Sign out: the server-side session (and the unlocked key in it) is deleted."""
    cookie = session.get(guard.COOKIE)
    active = guard.active_session()
    if active is not None:
        audit.record(
            "logout",
            actor_id=active.user.id,
            actor=active.user.email,
            target_type="user",
            target_id=active.user.id,
        )
        db.session.commit()
    if cookie:
        sessions.end(cookie)
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("Du är utloggad."), "info")
    return redirect(url_for(".login"))


@bp.app_context_processor
def _logout_form() -> dict[str, object]:
    return {"logout_form": EmptyForm}


@bp.app_template_global("member_of_an_inbox")
def member_of_an_inbox() -> bool:
    """Whether the signed-in user belongs to an inbox (only then is the inbox link of use)."""
    if not current_user.is_authenticated:
        return False
    return bool(guard.my_inbox_ids())
