"""The claims blueprint and what its page modules share: loading a claim in scope, its URLs, and
the one shape of a form recorded on a claim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.claims import listing
from vat.claims.labels import claim_label
from vat.claims.models import Claim
from vat.inputs import country_choices
from vat.submission import submit

bp = Blueprint("claims", __name__, url_prefix="/vat/claims")

RECORD_FORM = "vat/claims/record_form.html"

Result = TypeVar("Result")


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"claim_label": claim_label}


def load_claim(claim_id: int, *, for_update: bool = False) -> Claim:
    """The claim in the user's scope (404 otherwise), its row locked when the request changes it."""
    claim = listing.get_claim(current_user, claim_id, for_update=for_update)
    if claim is None:
        abort(404)
    return claim


def claim_url(claim: Claim, anchor: str = "") -> str:
    return url_for("claims.show", claim_id=claim.id) + (f"#{anchor}" if anchor else "")


def inform_url(claim: Claim) -> str:
    return url_for("claims.inform", claim_id=claim.id)


def countries(blank: str = "—") -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(code, label) for code, label in country_choices()]


def record_form(form: FlaskForm, claim: Claim, page: dict[str, Any]) -> str:
    return render_template(RECORD_FORM, form=form, claim=claim, **page)


def record_on_claim(
    form: FlaskForm,
    claim: Claim,
    page: dict[str, Any],
    run: Callable[[], Result],
    *,
    done: str,
    then: Callable[[Result], str],
) -> tuple[str, int] | Response:
    """The POST of a form recorded on a claim (loaded for update: its row is locked until the
    commit); a refusal shows the form again, with the message on its field."""
    return submit(
        form, run, done=done, then=then, template=RECORD_FORM, refused_status=200, claim=claim, **page
    )
