"""The claims blueprint and what its page modules share: loading a claim in scope, its URLs, and
the one shape of a form recorded on a claim."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.auth.policy import Permission, requires
from vat.claims import listing
from vat.claims.labels import claim_label
from vat.claims.models import Claim
from vat.inputs import country_choices
from vat.submission import submit

bp = Blueprint("claims", __name__, url_prefix="/vat/claims")

RECORD_FORM = "vat/claims/record_form.html"

Result = TypeVar("Result")
F = TypeVar("F", bound=FlaskForm)


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


def _no_choices(_form: Any, _claim: Claim) -> None:
    return None


@dataclass(frozen=True)
class OnClaim(Generic[F]):
    """A form recorded on a claim: its GET shows `form_class` prefilled, its POST records it
    through one service (`record`) and goes on to `then(claim, result)`. Both render
    record_form.html with the page's title and button (and `prompt`, if any)."""

    path: str  # below /<claim_id>/
    title: Any  # lazy strings, translated as the page renders
    button: Any
    form_class: type[F]
    prefill: Callable[[F, Claim], None]
    record: Callable[[F, Claim], Any]
    done: Callable[[Claim], str]
    then: Callable[[Claim, Any], str]
    choices: Callable[[F, Claim], None] = _no_choices  # the options that depend on the claim
    prompt: Callable[[Claim], Any] | None = None

    def form(self, claim: Claim) -> F:
        form = self.form_class()
        self.choices(form, claim)
        return form

    def page(self, claim: Claim) -> dict[str, Any]:
        page = {"title": self.title, "submit": self.button}
        return page | ({"prompt": self.prompt(claim)} if self.prompt else {})


def route_on_claim(show: str, save: str, on_claim: OnClaim[Any]) -> None:
    """Register the GET (endpoint `claims.<show>`) and the POST (`claims.<save>`) of a form
    recorded on a claim, for those who edit cases."""

    @requires(Permission.EDIT_CASES)
    def show_form(claim_id: int) -> str:
        claim = load_claim(claim_id)
        form = on_claim.form(claim)
        on_claim.prefill(form, claim)
        return record_form(form, claim, on_claim.page(claim))

    @requires(Permission.EDIT_CASES)
    def save_form(claim_id: int) -> tuple[str, int] | Response:
        claim = load_claim(claim_id, for_update=True)
        form = on_claim.form(claim)
        return record_on_claim(
            form,
            claim,
            on_claim.page(claim),
            lambda: on_claim.record(form, claim),
            done=on_claim.done(claim),
            then=lambda result: on_claim.then(claim, result),
        )

    path = f"/<int:claim_id>/{on_claim.path}"
    bp.add_url_rule(path, show, show_form, methods=["GET"])
    bp.add_url_rule(path, save, save_form, methods=["POST"])
