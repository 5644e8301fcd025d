"""A form refused for want of the victim's consent: the page offers a link to record each missing
consent, and what was typed is kept as a draft (vat.drafts) so that, once the consent is recorded,
the user comes back to the form with its values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from vat import drafts
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, InvalidFields, refuse_all
from vat.victims.consents import ConsentMissing
from vat.victims.models import ConsentPurpose, Victim

CONSENT_FIRST = _l(
    "A consent is missing: record it below, then you come back to this form with what you typed."
)


@dataclass
class MissingConsents:
    """The consents a form's service found missing, and the draft's token their links carry."""

    victim: Victim
    token: str = field(default_factory=drafts.new_token)
    refusals: list[ConsentMissing] = field(default_factory=list)

    def checking(self, record: Callable[..., object]) -> Callable[..., object]:
        """`record`, its consent refusals set aside for the links (any other refusal still shown
        on its field)."""

        def run(**values: Any) -> object:
            try:
                return record(**values)
            except InvalidField as refused:
                found = refused.errors if isinstance(refused, InvalidFields) else [refused]
                self.refusals = [e for e in found if isinstance(e, ConsentMissing)]
                if not self.refusals:
                    raise
                refuse_all([e for e in found if not isinstance(e, ConsentMissing)])
                raise DomainError(CONSENT_FIRST) from refused

        return run

    def links(self) -> list[tuple[str, str]]:
        """Each missing consent's message and the address that records it."""
        return [
            (
                str(refused),
                url_for(
                    "victims.new_consent", victim_id=self.victim.id, purpose=refused.purpose, draft=self.token
                ),
            )
            for refused in self.refusals
        ]

    def settle(self, answer: Response | tuple[str, int]) -> None:
        """After the POST, in a transaction of its own: keep what was typed when a consent was
        missing; once the form came back from its draft and was recorded, forget the draft."""
        if self.refusals:
            drafts.keep(actor=current_user, token=self.token, path=request.path, values=request.form)
        elif request.args.get("draft") and isinstance(answer, Response) and answer.status_code == 302:
            drafts.forget(actor=current_user, path=request.path)
        else:
            return
        db.session.commit()


def kept_values() -> MultiDict[str, str] | None:
    """The draft this form page's address names, if it is the user's own draft of this form."""
    return drafts.recall(actor=current_user, token=request.args.get("draft"), path=request.path)


def prefill_consent(form: Any, _victim: Victim) -> None:
    """A consent recorded from a refused form: its purpose, and for a referral the provider typed."""
    purpose = request.args.get("purpose", "")
    if purpose in {p.value for p in ConsentPurpose}:
        form.purpose.data = purpose
    kept = drafts.recall(actor=current_user, token=request.args.get("draft"))
    if purpose == ConsentPurpose.REFERRAL and kept is not None and kept.get("provider"):
        form.recipient.data = kept.get("provider")


def back_to_form(victim: Victim, _consent: object, *, anchor: str) -> str:
    """After the consent: the form left for it, with its values, or the victim's consents."""
    back = drafts.way_back(actor=current_user, token=request.args.get("draft"))
    return back or url_for("victims.show", victim_id=victim.id) + f"#{anchor}"
