"""The claims blueprint and what its page modules share: loading a claim in scope, its URLs, and
the page a form recorded on a claim is shown on, and the member-state letter form (also recorded
on an allegation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.claims import listing
from vat.claims.forms import LetterForm
from vat.claims.labels import claim_label
from vat.claims.models import Claim, Letter
from vat.forms_on_parent import FormOn, Parent
from vat.inputs import country_choices, today
from vat.submission import or_404

bp = Blueprint("claims", __name__, url_prefix="/vat/claims")


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"claim_label": claim_label}


def load_claim(claim_id: int, *, for_update: bool = False) -> Claim:
    """The claim in the user's scope (404 otherwise), its row locked when the request changes it."""
    return or_404(listing.get_claim(current_user, claim_id, for_update=for_update))


def claim_url(claim: Claim, anchor: str = "") -> str:
    return url_for("claims.show", claim_id=claim.id) + (f"#{anchor}" if anchor else "")


def inform_url(claim: Claim) -> str:
    return url_for("claims.inform", claim_id=claim.id)


def countries(blank: str = "—") -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(code, label) for code, label in country_choices()]


def _load(claim_id: int, for_update: bool) -> Claim:
    return load_claim(claim_id, for_update=for_update)


# Forms recorded on a claim (loaded for update by their POST: its row is locked until the commit)
# show the form again on a refusal, with the message on its field.
CLAIM = Parent(
    bp, "claim", "/<int:claim_id>", _load, "vat/claims/record_form.html", claim_url, refused_status=200
)


def _prefill_letter(form: LetterForm, _parent: object) -> None:
    form.dated_on.data = today()
    form.direction.data = "received" if request.args.get("direction") == "received" else "sent"


def letter_form(service: Callable[..., Letter]) -> FormOn[Any, LetterForm]:
    """The form of a letter to or from a member state, recorded by `service` on a claim or on an
    allegation; back to the parent's letters."""
    return FormOn(
        path="letters/new",
        title=_l("Member-state correspondence"),
        form_class=LetterForm,
        prefill=_prefill_letter,
        service=service,
        done=_l("Correspondence recorded."),
        then="letters",
    )
