"""Entry memos: stored in English, as the hash chain sealed them, and shown in the reader's language.

Each kind of memo the services write is declared once, in English with %(name)s fields: filled in,
it is what the ledger stores; as it is, it is the catalogue's message. So `shown` can read a stored
memo back into its parts and say it in the reader's language (as account names, stored as codes,
are translated at display). A memo of no known shape (typed by a user, or cut at the column's
length) is shown as stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

from vat.i18n import N_

MAX_LENGTH = 300  # Entry.memo's column
# Values that are codes or numbers never hold the words around them.
FIELDS = {"seq": r"\d+", "rate": r"[\d.]+", "case_code": r"\S+", "country": r"\S+", "status": r"\w+"}


@dataclass(frozen=True)
class Shape:
    english: str  # with %(name)s fields: what the ledger stores, and the catalogue's message
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"%\((\w+)\)s", self.english)
        regex = "".join(
            re.escape(part.replace("%%", "%")) if i % 2 == 0 else f"(?P<{part}>{FIELDS.get(part, '.+?')})"
            for i, part in enumerate(parts)
        )
        object.__setattr__(self, "pattern", re.compile(regex, re.DOTALL))

    def read(self, memo: str) -> dict[str, str] | None:
        """The values of a memo of this shape (None if it is not of it). A free-text value ends at
        the first place the words after it appear: a partner named "Alliance for Women" in a
        tranche's memo is read as "Alliance", and the rest goes with the title — every word still
        shown, in the order stored."""
        found = self.pattern.fullmatch(memo)
        return None if found is None else found.groupdict()

    def write(self, **values: Any) -> str:
        return (self.english % values)[:MAX_LENGTH]


PLEDGE_EARMARKED = Shape(N_("Pledge by %(donor)s (earmarked: %(earmark)s)"))
PLEDGE = Shape(N_("Pledge by %(donor)s"))
RECEIPT = Shape(N_("Receipt from %(donor)s, ref. %(reference)s"))
WITHHELD = Shape(N_("Withheld from %(country)s for allegation %(allegation)s"))
TRANSFER = Shape(N_("Transfer of amount withheld from %(country)s (%(allegation)s)"))
GRANT = Shape(N_("Grant approved: %(title)s (%(partner)s)"))
RELEASE = Shape(N_("Undisbursed grant released (%(status)s): %(title)s. %(reason)s"))
TRANCHE = Shape(N_("Tranche to %(partner)s for %(title)s, ref. %(reference)s"))
SUPPORT_COST = Shape(N_("Programme support cost at %(rate)s%% on entry %(seq)s"))
DIRECT_SUPPORT = Shape(N_("Direct support to %(case_code)s: %(purpose)s"))
REVERSAL = Shape(N_("Reversal of entry %(seq)s: %(memo)s"))

# The more specific first: a pledge's earmark would otherwise read as part of its donor's name.
SHAPES = (
    PLEDGE_EARMARKED,
    PLEDGE,
    RECEIPT,
    WITHHELD,
    TRANSFER,
    GRANT,
    RELEASE,
    TRANCHE,
    SUPPORT_COST,
    DIRECT_SUPPORT,
    REVERSAL,
)


def shown(memo: str | None) -> str:
    """A stored memo in the reader's language (a reversal's memo of the entry it reverses too)."""
    if not memo:
        return ""
    for shape in SHAPES:
        values = shape.read(memo)
        if values is not None:
            if shape is REVERSAL:
                values["memo"] = shown(values["memo"])
            return gettext(shape.english) % values
    return memo
