"""The letters written to victims, from templates a senior advocate may edit (issue 18, item 3):
one per kind of letter and language. Until edited, a template is the one shipped with the app
(templates/vat/letters/<kind>.<language>.txt).

A template is text with placeholders (`{{ name }}`) and the conditions of the shipped ones
(`{% if outcome == "substantiated" %}`), rendered in Jinja's sandbox: it reaches only the values
its kind offers, and a saved template that names any other placeholder, or does not read, is
refused with the reason. Each save is audited (who, which, a digest of the text)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from vat import audit
from vat.auth.actor import Actor
from vat.db import Base, UTCDateTime, db, one_of, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.money import shown

# The languages a letter is written in.
LETTER_LANGUAGES = {"en": "English", "fr": "Français", "zh": "中文"}
MAX_CHARS = 20_000
DATES = frozenset({"on", "step_on"})  # placeholders that hold a date (the rest hold text)


@dataclass(frozen=True)
class LetterKind:
    title: Any  # shown to the editor, in the reader's language
    placeholders: dict[str, Any]  # name → what it holds


OUTCOME_PLACEHOLDERS = {
    "name": _l("the victim's name (or case code if none is recorded)"),
    "case_code": _l("the victim's case code"),
    "on": _l("the letter's date (write on.isoformat() for 2026-12-06)"),
    "advocate": _l("the victim's advocate"),
}
KINDS = {
    "outcome": LetterKind(
        _l("Outcome of an investigation"),
        {
            **OUTCOME_PLACEHOLDERS,
            "reference": _l("the allegation's reference"),
            "outcome": _l("the outcome: substantiated, unsubstantiated or another"),
        },
    ),
    "claim_step": LetterKind(
        _l("A paternity claim's step"),
        {
            **OUTCOME_PLACEHOLDERS,
            "claim": _l("the claim's code"),
            "step": _l("the step reached, in the letter's language"),
            "step_code": _l("the step reached, as stored (e.g. paternity_established)"),
            "step_on": _l("the day the step was reached"),
            "member_state": _l("the member state"),
        },
    ),
}


class LetterTemplate(Base):
    """A template as a senior advocate last saved it (none: the shipped one is used)."""

    __tablename__ = "vat_letter_template"
    __table_args__ = (
        UniqueConstraint("kind", "language"),
        one_of("kind", KINDS),
        one_of("language", LETTER_LANGUAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_SANDBOX = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
_SANDBOX.globals.clear()  # no range, lipsum, cycler...: a letter reaches its placeholders only


def _known(kind: str, language: str) -> LetterKind:
    if kind not in KINDS or language not in LETTER_LANGUAGES:
        raise DomainError(_l("There is no such letter template."))
    return KINDS[kind]


def shipped(kind: str, language: str) -> str:
    """The template shipped with the app."""
    _known(kind, language)
    source, _path, _fresh = current_app.jinja_env.loader.get_source(  # type: ignore[union-attr]
        current_app.jinja_env, f"vat/letters/{kind}.{language}.txt"
    )
    return source


def saved(kind: str, language: str) -> LetterTemplate | None:
    return db.session.scalar(
        select(LetterTemplate).where(LetterTemplate.kind == kind, LetterTemplate.language == language)
    )


def body_of(kind: str, language: str) -> str:
    """The template in use: as last saved, or as shipped."""
    row = saved(kind, language)
    return row.body if row is not None else shipped(kind, language)


def check(kind: str, body: str) -> None:
    """Refuse a template that does not read or names a placeholder its kind does not offer."""
    if not body.strip():
        raise InvalidField("body", _l("Write the letter."))
    if len(body) > MAX_CHARS:
        raise InvalidField("body", _l("A letter has at most %(count)s characters.", count=shown(MAX_CHARS)))
    try:
        parsed = _SANDBOX.parse(body)
    except TemplateSyntaxError as error:
        raise InvalidField(
            "body",
            _l(
                "The template does not read at line %(line)s: %(reason)s",
                line=error.lineno,
                reason=error.message,
            ),
        ) from error
    unknown = sorted(meta.find_undeclared_variables(parsed) - KINDS[kind].placeholders.keys())
    if unknown:
        raise InvalidField(
            "body",
            _l(
                "Unknown placeholders: %(unknown)s. This letter offers %(known)s.",
                unknown=", ".join(unknown),
                known=", ".join(KINDS[kind].placeholders),
            ),
        )
    # Written once with sample values: what only fails when written (an attribute the sandbox
    # withholds, a value used as what it is not) is refused now, not on a victim's letter.
    sample = {name: date(2026, 1, 2) if name in DATES else name for name in KINDS[kind].placeholders}
    try:
        _SANDBOX.from_string(body).render(**sample)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
        raise InvalidField(
            "body", _l("The template cannot be written: %(reason)s", reason=str(error)[:200])
        ) from error


def save_template(*, actor: Actor, kind: str, language: str, body: str) -> LetterTemplate:
    """Save the template of `kind` in `language` (checked), replacing the one in use."""
    _known(kind, language)
    body = body.replace("\r\n", "\n")
    check(kind, body)
    row = saved(kind, language)
    if row is None:
        row = LetterTemplate(kind=kind, language=language)
        db.session.add(row)
    row.body, row.updated_by_id, row.updated_at = body, actor.id, utcnow()
    db.session.flush()
    digest = hashlib.sha256(body.encode()).hexdigest()
    detail = {"kind": kind, "language": language, "chars": len(body), "sha256": digest}
    audit.record(
        "letter_template.save",
        actor=actor,
        object_type="vat_letter_template",
        object_id=row.id,
        detail=detail,
    )
    return row


def paragraphs(kind: str, language: str, values: dict[str, Any]) -> list[str]:
    """The letter written from the template in use: its paragraphs, the first its title."""
    _known(kind, language)
    try:
        text = _SANDBOX.from_string(body_of(kind, language)).render(**values)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
        raise DomainError(
            _l("The letter template cannot be used: a senior advocate must correct it.")
        ) from error
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
