"""Sign in (password, then the second factor), sign out, re-authenticate, password, enrolment."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from vat.auth import services
from vat.auth.forms import CodeForm, LoginForm, PasswordForm, ReauthForm
from vat.auth.models import User
from vat.auth.policy import public, signed_in
from vat.db import BeginMode, begin_mode, db, utcnow
from vat.errors import DomainError
from vat.extensions import login_manager
from vat.submission import text

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_SECONDS = 300


def identify() -> None:
    """before_request: find who is signed in. Ending an idle session or recording that it was seen
    is committed here, before the request's work, in a short IMMEDIATE transaction of its own: a
    request that only reads keeps reading without the write lock."""
    token = session.get("sid")
    if not token or request.endpoint is None or request.endpoint.endswith("static"):
        return
    row = services.find_session(token)
    upkeep = services.upkeep_due(row) if row is not None and row.user.active else services.Upkeep.END
    if row is not None and upkeep is not services.Upkeep.NONE:
        db.session.commit()  # end the reading transaction; the write begins its own
        with begin_mode(BeginMode.IMMEDIATE):
            services.keep_up(row, upkeep)
            db.session.commit()
    if upkeep is services.Upkeep.END:
        session.clear()
        return
    g.user_session = row


@login_manager.user_loader
def load_user(_user_id: str) -> User | None:
    row = g.get("user_session")
    return row.user if row is not None else None


def client_address() -> str | None:
    return request.remote_addr


def safe_next(target: str | None) -> str:
    """Only a local path: no scheme, no host, no `//host` or `\\host` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return url_for("main.dashboard")
    return target


def _finish_login(user: User) -> Response:
    token = services.start_session(user=user, address=client_address())
    db.session.commit()
    next_url = session.get("next")
    session.clear()  # a new session for a new login: nothing from before survives
    session["sid"] = token
    login_user(user)
    return redirect(safe_next(next_url))


@bp.get("/login")
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if request.args.get("next"):
        session["next"] = safe_next(request.args["next"])
    return render_template("auth/login.html", form=LoginForm())


@bp.post("/login")
@public
def submit_login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    try:
        user = services.authenticate(
            username=text(form.username), password=text(form.password), address=client_address()
        )
    except services.LoginRefused as refused:
        db.session.commit()  # keep the failure count
        status = 429 if isinstance(refused, services.LoginThrottled) else 200
        flash(str(refused), "error")
        return render_template("auth/login.html", form=form), status
    db.session.commit()
    if user.totp_secret:
        next_url = session.get("next")
        session.clear()
        session.update(pending_user=user.id, pending_at=utcnow().timestamp(), next=next_url)
        return redirect(url_for("auth.second_factor"))
    return _finish_login(user)


def _pending_user() -> User | None:
    """The user who gave their password and has yet to give a code (for a few minutes)."""
    user = db.session.get(User, session.get("pending_user", 0))
    if user is None or utcnow().timestamp() - session.get("pending_at", 0) > PENDING_SECONDS:
        session.clear()
        flash(_("Sign in again."), "info")
        return None
    return user


@bp.get("/login/code")
@public
def second_factor() -> str | Response:
    if _pending_user() is None:
        return redirect(url_for("auth.login"))
    return render_template("auth/code.html", form=CodeForm())


@bp.post("/login/code")
@public
def check_second_factor() -> str | Response:
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form)
    try:
        services.verify_totp(user=user, code=text(form.code), address=client_address())
    except services.LoginRefused as refused:
        db.session.commit()  # keep the failure count
        flash(str(refused), "error")
        return render_template("auth/code.html", form=form)
    return _finish_login(user)


@bp.post("/logout")
@signed_in
def logout() -> Response:
    if token := session.get("sid"):
        services.end_session(token)
        db.session.commit()
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.get("/reauthenticate")
@signed_in
def reauthenticate() -> str:
    return render_template("auth/reauthenticate.html", form=ReauthForm())


@bp.post("/reauthenticate")
@signed_in
def confirm_reauthentication() -> str | Response:
    form = ReauthForm()
    if not form.validate_on_submit():
        return render_template("auth/reauthenticate.html", form=form)
    try:
        services.authenticate(
            username=current_user.username, password=text(form.password), address=client_address()
        )
        if current_user.totp_secret:
            services.verify_totp(user=current_user, code=text(form.code), address=client_address())
        services.refresh_session(g.user_session)
    except DomainError as refused:
        db.session.commit()  # keep the failure count
        flash(str(refused), "error")
        return render_template("auth/reauthenticate.html", form=form)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


@bp.get("/password")
@signed_in
def change_password() -> str:
    return render_template("auth/password.html", form=PasswordForm())


@bp.post("/password")
@signed_in
def save_password() -> str | Response:
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form)
    try:
        services.change_password(user=current_user, current=text(form.current), new=text(form.new))
    except DomainError as error:
        form.new.errors = [*form.new.errors, str(error)]
        return render_template("auth/password.html", form=form)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Password changed. Every session has ended: sign in with the new password."), "success")
    return redirect(url_for("auth.login"))


@bp.get("/second-factor")
@signed_in
def enrol_totp() -> str:
    """Enrol (or replace) the authenticator: show a new secret, confirm it with a first code."""
    session["enrol_secret"] = secret = services.new_totp_secret()
    return _enrolment_page(CodeForm(), secret)


@bp.post("/second-factor")
@signed_in
def confirm_totp() -> str | Response:
    secret = session.get("enrol_secret") or services.new_totp_secret()
    session["enrol_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.confirm_totp_enrolment(user=current_user, secret=secret, code=text(form.code))
        except DomainError as error:
            form.code.errors = [*form.code.errors, str(error)]
        else:
            session.pop("enrol_secret")
            flash(_("Second factor enrolled. Sign in again with a code."), "success")
            db.session.commit()
            logout_user()
            session.clear()
            return redirect(url_for("auth.login"))
    return _enrolment_page(form, secret)


def _enrolment_page(form: CodeForm, secret: str) -> str:
    uri = services.provisioning_uri(current_user, secret)
    qr = segno.make(uri, micro=False).svg_data_uri(scale=4)
    return render_template(
        "auth/enrol.html",
        form=form,
        secret=secret,
        qr=qr,
        required=current_user.needs_totp and not current_user.totp_secret,
    )
