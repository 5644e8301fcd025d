"""Entry memos: stored in English, as the hash chain sealed them, and shown in the reader's language.

Each kind of memo the services write is declared once, as the English the ledger stores and its
translation, so `shown` can read a stored memo back into its parts and say it in the reader's
language (as account names, stored as codes, are translated at display). A memo of no known shape
(typed by a user, or cut at the column's length) is shown as stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

MAX_LENGTH = 300  # Entry.memo's column
# Values that are codes or numbers never hold the words around them.
FIELDS = {"seq": r"\d+", "rate": r"[\d.]+", "case_code": r"\S+", "country": r"\S+", "status": r"\w+"}


@dataclass(frozen=True)
class Shape:
    english: str  # str.format fields: what the ledger stores
    translated: Any  # the same sentence for the catalogue, with %(name)s fields
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"\{(\w+)\}", self.english)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{FIELDS.get(part, '.+?')})"
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
        return self.english.format(**values)[:MAX_LENGTH]


PLEDGE_EARMARKED = Shape(
    "Pledge by {donor} (earmarked: {earmark})", _l("Pledge by %(donor)s (earmarked: %(earmark)s)")
)
PLEDGE = Shape("Pledge by {donor}", _l("Pledge by %(donor)s"))
RECEIPT = Shape("Receipt from {donor}, ref. {reference}", _l("Receipt from %(donor)s, ref. %(reference)s"))
WITHHELD = Shape(
    "Withheld from {country} for allegation {allegation}",
    _l("Withheld from %(country)s for allegation %(allegation)s"),
)
TRANSFER = Shape(
    "Transfer of amount withheld from {country} ({allegation})",
    _l("Transfer of amount withheld from %(country)s (%(allegation)s)"),
)
GRANT = Shape("Grant approved: {title} ({partner})", _l("Grant approved: %(title)s (%(partner)s)"))
RELEASE = Shape(
    "Undisbursed grant released ({status}): {title}. {reason}",
    _l("Undisbursed grant released (%(status)s): %(title)s. %(reason)s"),
)
TRANCHE = Shape(
    "Tranche to {partner} for {title}, ref. {reference}",
    _l("Tranche to %(partner)s for %(title)s, ref. %(reference)s"),
)
SUPPORT_COST = Shape(
    "Programme support cost at {rate}% on entry {seq}",
    _l("Programme support cost at %(rate)s%% on entry %(seq)s"),
)
DIRECT_SUPPORT = Shape(
    "Direct support to {case_code}: {purpose}", _l("Direct support to %(case_code)s: %(purpose)s")
)
REVERSAL = Shape("Reversal of entry {seq}: {memo}", _l("Reversal of entry %(seq)s: %(memo)s"))

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
            return str(shape.translated) % values
    return memo
