"""The landing page of each role, and a health check."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth import services
from vat.auth.forms import LanguageForm
from vat.auth.policy import Permission, can, public, signed_in
from vat.reports.views.landing import landing_figures
from vat.submission import submit

bp = Blueprint("main", __name__)


@bp.get("/")
@signed_in
def dashboard() -> str:
    figures = landing_figures() if can(current_user, Permission.VIEW_CASES) else {}
    return render_template("main/dashboard.html", role=current_user.role, **figures)


@bp.get("/language")
@signed_in
def language() -> str:
    form = LanguageForm(language=current_user.language or "", time_zone=current_user.time_zone or "")
    return render_template("main/language.html", form=form)


@bp.post("/language")
@signed_in
def save_language() -> Response | tuple[str, int]:
    form = LanguageForm()

    def save() -> None:
        services.set_language(user=current_user, language=form.language.data or None)
        services.set_time_zone(user=current_user, time_zone=form.time_zone.data or None)

    return submit(
        form,
        save,
        done=_("Preferences saved."),
        then=lambda _result: url_for("main.dashboard"),
        template="main/language.html",
    )


@bp.get("/health")
@public
def health() -> dict[str, str]:
    return {"status": "ok"}
