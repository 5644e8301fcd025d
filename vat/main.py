"""The landing page of each role, and a health check."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from vat.auth.policy import public, signed_in

bp = Blueprint("main", __name__)


@bp.get("/")
@signed_in
def dashboard() -> str:
    return render_template("main/dashboard.html", role=current_user.role)


@bp.get("/health")
@public
def health() -> dict[str, str]:
    return {"status": "ok"}
