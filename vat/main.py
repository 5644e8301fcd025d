"""The landing page of each role, and a health check."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth import services
from vat.auth.forms import LanguageForm
from vat.auth.policy import Permission, can, public, signed_in
from vat.db import commit_keeping_loaded
from vat.reports.views.landing import landing_figures

bp = Blueprint("main", __name__)


@bp.get("/")
@signed_in
def dashboard() -> str:
    figures = landing_figures() if can(current_user, Permission.VIEW_CASES) else {}
    return render_template("main/dashboard.html", role=current_user.role, **figures)


@bp.route("/language", methods=["GET", "POST"])
@signed_in
def language() -> str | Response:
    form = LanguageForm(language=current_user.language or "")
    if form.validate_on_submit():
        services.set_language(user=current_user, language=form.language.data or None)
        commit_keeping_loaded()  # what follows reads no expired row
        flash(_("Language saved."), "success")
        return redirect(url_for("main.dashboard"))
    return render_template("main/language.html", form=form)


@bp.get("/health")
@public
def health() -> dict[str, str]:
    return {"status": "ok"}
