"""Phone numbers as `tel:` links that never break inside a number (class "tel").

Swedish numbers are written nationally ("0929-170 00"); the link dials them internationally
(+46 and the number without its leading 0) so that it works from any phone. Short numbers
(112, 114 14) are dialled as they are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from intake import installation

# Emergency (SOS Alarm) and the police's non-emergency number.
SHORT_NUMBERS = ("112", "114 14")


def tel_uri(number: str) -> str:
    """The tel: address of a number as written."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        return f"tel:+{digits}"
    if len(digits) > 5 and digits.startswith("0"):
        return f"tel:+46{digits[1:]}"
    return f"tel:{digits}"


def link(number: str) -> Markup:
    """A number as a tel: link that does not wrap."""
    return Markup('<a href="{}" class="tel">{}</a>').format(tel_uri(number), number)


def linked(text: str, numbers: Iterable[str]) -> Markup:
    """The text, escaped, with each of these numbers in it as a tel: link."""
    wanted = sorted({n for n in numbers if n.strip()}, key=len, reverse=True)
    if not wanted:
        return escape(text)
    pattern = re.compile(r"(?<![\w+-])(" + "|".join(map(re.escape, wanted)) + r")(?![\w-])")
    # split() with a group: the numbers are every second piece
    pieces = pattern.split(text)
    return Markup("").join(link(p) if i % 2 else escape(p) for i, p in enumerate(pieces))


# The filter sees the site's own texts only (translations, installation facts): a few dozen,
# each linked the same way every time, and linking one (a pattern built and run) cost about as
# much as the rest of the page footer.
_linked_once = functools.lru_cache(maxsize=256, typed=True)(linked)


def phones(text: str) -> Markup:
    """Jinja filter: the emergency numbers and the installation's own numbers as links."""
    facts = installation.current()
    numbers = (*SHORT_NUMBERS, facts.socialtjanst_phone, facts.socialjour_phone)
    if type(text) in (str, Markup):
        return _linked_once(text, numbers)
    return linked(text, numbers)
