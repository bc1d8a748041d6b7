"""The second page before a resident's answers are thrown away: "Vill du radera dina svar?".

A plain link on the check page leads here (no JavaScript needed); the form on this page posts
to `reports.discard`, which deletes the draft. One mis-click can no longer lose a report.
"""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("discard", __name__, url_prefix="/orosanmalan")


@bp.get("/radera-svar")
def confirm() -> str:
    """Ask before the draft is deleted; "Nej" goes back to the answers."""
    return render_template("reports/discard.html")
