"""The victims blueprint, and what its pages share: the victim loaded through the user's scope, the
way back to the victim's page, the choices of the victim form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.db import db
from vat.forms_on_parent import Parent
from vat.submission import form_values, or_404
from vat.victims import identity, labels
from vat.victims.forms import VictimForm
from vat.victims.models import Assistance, Child, Communication, Consent, Feedback, Victim, VictimTask

bp = Blueprint("victims", __name__, url_prefix="/vat")
R = TypeVar("R", Assistance, Child, Communication, Consent, Feedback, VictimTask)


@bp.app_context_processor
def label_helpers() -> dict[str, Any]:
    return labels.HELPERS


def on_file(victim: Victim, kind: type[R], record_id: int) -> R:
    """A record of this victim's file; any other id answers 404, as one outside scope does."""
    record = db.session.get(kind, record_id)
    if record is None or record.victim_id != victim.id:
        abort(404)
    return record


def load_victim(victim_id: int) -> Victim:
    return or_404(identity.get_victim(current_user, victim_id))


def scope_countries() -> list[SelectChoice]:
    codes = sorted({s.country_code for s in current_user.scopes})
    return [SelectChoice(c, c) for c in codes]


def advocate_choices() -> list[SelectChoice]:
    advocates = identity.advocates_for(current_user)
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), u.username) for u in advocates]


def prepare_victim_form(form: VictimForm) -> None:
    form.country_code.choices = scope_countries()
    form.advocate_id.choices = advocate_choices()


def victim_url(victim: Victim, anchor: str = "") -> str:
    return url_for("victims.show", victim_id=victim.id) + (f"#{anchor}" if anchor else "")


def to_victim_page(victim: Victim, anchor: str = "", *, refusal: str = "") -> Response:
    """Back to the victim's page (at `anchor`), with the `refusal` that sends it there flashed."""
    if refusal:
        flash(refusal, "error")
    return redirect(victim_url(victim, anchor))


def _load(victim_id: int, _for_update: bool) -> Victim:
    return load_victim(victim_id)


VICTIM = Parent(bp, "victim", "/victims/<int:victim_id>", _load, "vat/victims/record_form.html", victim_url)


def record_on_file(
    victim: Victim,
    form: FlaskForm,
    record: Callable[..., object],
    *,
    done: str | Callable[[Any], str],
    anchor: str,
    **page: Any,
) -> Response | tuple[str, int]:
    """The POST of a form that records on the victim's file: `record` is called with the form's
    values and the victim; back to the victim's page at `anchor`."""
    return VICTIM.save(
        form,
        victim,
        lambda: record(actor=current_user, victim=victim, **form_values(form)),
        done=done,
        then=lambda _recorded: victim_url(victim, anchor),
        **page,
    )
