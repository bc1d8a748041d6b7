"""How a commitment's text is shown to residents: the signed document's wording, with obvious
typing errors corrected for display only, and a note that says so.

Decided for issue 13 §5: the stored text stays exactly as in the signed promise
(seed/000_98b62c6c2ca4dd5d.txt says "droganeundersökning"), because it is a quotation of a
signed document. A resident reads the corrected word, followed by a note naming the original,
so nobody is misled about what was signed. Only unmistakable misspellings belong in the table;
wording, grammar and style are never changed.
"""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

# Misspelled word in the signed document -> the word meant.
CORRECTIONS: dict[str, str] = {
    "droganeundersökning": "drogvaneundersökning",
}


def displayed(text: str) -> Markup:
    """The text with corrections applied, each followed by a note with the original word."""
    corrected, notes = text, []
    for wrong, right in CORRECTIONS.items():
        if wrong in corrected:
            corrected = corrected.replace(wrong, right)
            notes.append(
                _("rättat stavfel, i det undertecknade löftet står ”%(original)s”", original=wrong)
            )
    shown = escape(corrected)
    for note in notes:
        shown += Markup(' <span class="correction-note">(') + escape(note) + Markup(")</span>")
    return shown
