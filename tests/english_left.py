"""English left on a page read in another language (issue 19, item 1): the sentences of our own
catalogue shown untranslated, and, in Chinese, any run of three or more Latin words. Proper
nouns, codes and column names are allowed (`ALLOWED`)."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Codes and names that stay as they are in every language.
ALLOWED = ("donor, pledge, receipt, withholding, transfer", "donor, pledge, receipt, withholding or transfer")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)
_TAG = re.compile(r"<[^>]*>")
_SHOWN_ATTRIBUTE = re.compile(r'\b(?:alt|title|aria-label|placeholder|data-text-[a-z]+)="([^"]*)"')
_LATIN_RUN = re.compile(r"[A-Za-z][a-z’']+(?:[ ,;:]+[A-Za-z][a-z’']+){2,}")


@cache
def _english(language: str) -> tuple[str, ...]:
    """The literal pieces (3 words or more) of each message the catalogue translates."""
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale=language)
    pieces = set()
    for message in catalogue:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        if not msgid or not message.string or message.string == msgid:
            continue
        for piece in _PLACEHOLDER.split(msgid):
            piece = piece.strip(' .,:;()“”"')
            if len(piece.split()) >= 3:
                pieces.add(piece)
    return tuple(sorted(pieces, key=len, reverse=True))


def shown_text(page: str) -> str:
    """What a person reads on the page: its text and the attributes shown or spoken."""
    attributes = " \n".join(_SHOWN_ATTRIBUTE.findall(page))
    text = _TAG.sub("\n", _HIDDEN.sub(" ", page))
    return html.unescape(f"{text}\n{attributes}")


def english_left(text: str, language: str) -> list[str]:
    """The English sentences in `text` (a page's shown text, a sheet's cells) read in `language`."""
    for allowed in ALLOWED:
        text = text.replace(allowed, " ")
    found = [piece for piece in _english(language) if piece in text]
    if language == "zh":
        found += [run for run in _LATIN_RUN.findall(text) if not any(run in piece for piece in found)]
    return found
