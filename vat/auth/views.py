"""Sign in (password, then the second factor), sign out, re-authenticate, password, enrolment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from vat.auth import notices, resets, services, throttle
from vat.auth.forms import (
    CodeForm,
    EndSessionForm,
    EnrolForm,
    LoginForm,
    PasswordForm,
    ReauthForm,
    ResetPasswordForm,
)
from vat.auth.models import User, UserSession
from vat.auth.policy import public, signed_in
from vat.db import db, is_locked, only_if_free, utcnow
from vat.errors import DomainError
from vat.extensions import login_manager
from vat.inputs import InvalidField
from vat.submission import show_refusal, text, writes, written_apart

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_SECONDS = 300
MAX_NEXT = 2000  # a longer `next` is no page of ours

T = TypeVar("T")
Answer = str | Response | tuple[str, int]


def identify() -> None:
    """before_request: find who is signed in. Ending an idle session or recording that it was seen
    is committed here, before the request's work, in a short IMMEDIATE transaction of its own: a
    request that only reads keeps reading without the write lock."""
    token = session.get("sid")
    if not token or request.endpoint is None or request.endpoint.endswith("static"):
        return
    row, g.unseen_notices = services.find_session(token)
    upkeep = services.upkeep_due(row) if row is not None and row.user.active else services.Upkeep.END
    if row is not None and upkeep is services.Upkeep.END:
        with written_apart():
            services.keep_up(row, upkeep)
    elif row is not None and upkeep is services.Upkeep.TOUCH:
        _touch(row)
    if upkeep is services.Upkeep.END:
        session.clear()
        return
    g.user_session = row


def _touch(row: UserSession) -> None:
    """Record that the session was seen, unless another writer holds SQLite's write lock (an
    import's save, a booking): a touch is only a note, left to a later request, so that a page
    that reads never waits for the lock. Left out, the session can only end sooner, not later."""
    try:
        with only_if_free(), written_apart():
            services.keep_up(row, services.Upkeep.TOUCH)
    except OperationalError as error:
        if not is_locked(error):
            raise
        db.session.rollback()


@bp.post("/keep-alive")
@signed_in
def keep_alive() -> Response:
    """ "Stay signed in", from the warning before the idle sign-out (static/idle-warning.js): how
    many seconds the session now has."""
    services.keep_alive(g.user_session)
    db.session.commit()
    return jsonify(seconds_left=services.seconds_left(g.user_session))


@bp.get("/fresh-token")
@signed_in
def fresh_token() -> Response:
    """A page left open while its session ended, once its user signed in again in another tab
    (static/idle-warning.js): the new session's CSRF token, so that what was typed on the page
    can be sent as it is. Read only by the page's own script (same origin); never cached."""
    answer = jsonify(csrf_token=generate_csrf(), seconds_left=services.seconds_left(g.user_session))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@login_manager.user_loader
def load_user(_user_id: str) -> User | None:
    row = g.get("user_session")
    return row.user if row is not None else None


def client_address() -> str | None:
    return request.remote_addr


def safe_next(target: str | None) -> str:
    """Only a local path: no scheme, no host, no `//host` or `\\host` tricks, no line breaks or other
    control characters (they would end up in the Location header)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("main.dashboard")
    if len(target) > MAX_NEXT or not target.isprintable():
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return url_for("main.dashboard")
    return target


def device_cookie() -> str | None:
    return request.cookies.get(current_app.config["VAT_DEVICE_COOKIE_NAME"])


def _finish_login(user: User) -> Response:
    token = services.start_session(
        user=user,
        address=client_address(),
        user_agent=request.user_agent.string,
        new_device=throttle.device_of(device_cookie(), user) is None,
    )
    db.session.commit()
    next_url = session.get("next")
    session.clear()  # a new session for a new login: nothing from before survives
    session["sid"] = token
    login_user(user)
    response = redirect(safe_next(next_url))
    cfg = current_app.config
    response.set_cookie(
        cfg["VAT_DEVICE_COOKIE_NAME"],
        throttle.device_cookie(user=user, current=device_cookie()),
        max_age=int(timedelta(days=cfg["VAT_DEVICE_COOKIE_DAYS"]).total_seconds()),
        secure=cfg["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def answer_refusal(refused: services.LoginRefused) -> int:
    """Keep the failure count the refused step recorded, say why, and give the status to show the
    form again with: 429 while throttled, 403 for a locked account, 400 for a malformed code,
    else 200 (as for any mistake)."""
    db.session.commit()
    flash(str(refused), "error")
    if isinstance(refused, throttle.LoginThrottled):
        return 429
    if isinstance(refused, services.AccountLocked):
        return 403
    if isinstance(refused, services.MalformedCode):
        return 400
    return 200


def login_step(
    form: FlaskForm,
    page: Callable[[FlaskForm], str],
    step: Callable[[], T],
    then: Callable[[T], Answer],
    *,
    invalid_status: int = 200,
) -> Answer:
    """A sign-in step's POST: an invalid form is shown again (`invalid_status`); a refused step
    keeps its failure count and shows the form again with its status (`answer_refusal`); a step
    that passes goes on to `then(result)`."""
    if not form.validate_on_submit():
        return page(form), invalid_status
    try:
        result = step()
    except services.LoginRefused as refused:
        status = answer_refusal(refused)
        return page(form), status
    return then(result)


def _login_page(form: FlaskForm) -> str:
    return render_template("auth/login.html", form=form)


@bp.get("/login")
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if request.args.get("next"):
        session["next"] = safe_next(request.args["next"])
    return _login_page(LoginForm())


@bp.post("/login")
@public
def submit_login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    return login_step(
        form,
        _login_page,
        lambda: services.authenticate(
            username=text(form.username),
            password=text(form.password),
            address=client_address(),
            device=device_cookie(),
        ),
        _after_password,
    )


def _after_password(user: User) -> Response:
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
    return _code_page(CodeForm())


@bp.post("/login/code")
@public
def check_second_factor() -> str | Response | tuple[str, int]:
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    return login_step(
        form,
        _code_page,
        lambda: services.verify_totp(user=user, code=text(form.code), address=client_address()),
        lambda _verified: _finish_login(user),
        invalid_status=400,
    )


def _code_page(form: FlaskForm) -> str:
    return render_template("auth/code.html", form=form)


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


@dataclass(frozen=True)
class NarrowForm:
    """A page of one form (`form_class`) and a sentence about it (auth/narrow_form.html)."""

    form_class: type[FlaskForm]
    title: Any
    note: Any
    submit: Any

    def show(self, form: FlaskForm) -> str:
        return render_template("auth/narrow_form.html", form=form, page=self)

    def route_empty(
        self, url: str, endpoint: str, allowed: Callable[[Callable[[], str]], Callable[[], str]]
    ) -> None:
        """Register the page's GET, the empty form, for those `allowed`."""

        def empty() -> str:
            return self.show(self.form_class())

        bp.add_url_rule(url, endpoint, allowed(empty), methods=["GET"])


REAUTHENTICATE = NarrowForm(
    ReauthForm, _l("Confirm it is you"), _l("This action needs a recent sign-in."), _l("Confirm")
)
CHANGE_PASSWORD = NarrowForm(
    PasswordForm, _l("Change password"), _l("Changing it signs you out everywhere."), _l("Change password")
)
RESET_PASSWORD = NarrowForm(
    ResetPasswordForm,
    _l("Choose a new password"),
    _l(
        "An administrator gave you a one-time code. With it, choose a new password; then sign in with it "
        "(and your authenticator's code, if you have one)."
    ),
    _l("Set the new password"),
)


REAUTHENTICATE.route_empty("/reauthenticate", "reauthenticate", signed_in)


@bp.post("/reauthenticate")
@signed_in
def confirm_reauthentication() -> str | Response | tuple[str, int]:
    form = ReauthForm()

    def confirm() -> None:
        services.authenticate(
            username=current_user.username,
            password=text(form.password),
            address=client_address(),
            device=device_cookie(),
        )
        if current_user.totp_secret:
            services.verify_totp(user=current_user, code=text(form.code), address=client_address())
        services.refresh_session(g.user_session)

    return login_step(form, REAUTHENTICATE.show, confirm, _back_to_next)


def _back_to_next(_confirmed: None) -> Response:
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


CHANGE_PASSWORD.route_empty("/password", "change_password", signed_in)


@bp.post("/password")
@signed_in
def save_password() -> str | Response:
    form = PasswordForm()
    if not form.validate_on_submit():
        return CHANGE_PASSWORD.show(form)
    try:
        services.change_password(user=current_user, current=text(form.current), new=text(form.new))
    except DomainError as error:
        form.new.errors = [*form.new.errors, str(error)]
        return CHANGE_PASSWORD.show(form)
    db.session.commit()
    return _signed_out(_("Password changed. Every session has ended: sign in with the new password."))


@bp.get("/second-factor")
@signed_in
@writes
def enrol_totp() -> str:
    """Enrol (or replace) the authenticator: show a new secret, kept server-side until confirmed."""
    secret = services.start_totp_enrolment(user=current_user)
    db.session.commit()
    return _enrolment_page(_enrol_form(), secret)


@bp.post("/second-factor")
@signed_in
def confirm_totp() -> str | Response | tuple[str, int]:
    form = _enrol_form()
    if form.validate_on_submit():
        try:
            services.confirm_totp_enrolment(
                user=current_user,
                password=text(form.password),
                current_code=text(form.current_code) if "current_code" in form else "",
                code=text(form.code),
                address=client_address(),
                device=device_cookie(),
            )
        except services.LoginRefused as refused:
            status = answer_refusal(refused)
            return _enrolment_page(form), status
        except DomainError as error:
            db.session.commit()  # the password and current code were right: they were consumed
            form.code.errors = [*form.code.errors, str(error)]
        else:
            db.session.commit()
            return _signed_out(
                _(
                    "Second factor enrolled. Sign in again; the code you just used works once:"
                    " wait for your authenticator to show the next one."
                )
            )
    return _enrolment_page(form)


def _enrol_form() -> EnrolForm:
    """A first authenticator needs no current code: there is none."""
    form = EnrolForm()
    if current_user.totp_secret is None:
        del form.current_code
    return form


def _enrolment_page(form: EnrolForm, secret: str | None = None) -> str:
    """The set-up page. Without `secret` (a POST), the pending one is shown if there still is one:
    a POST never makes one, so the page says to start again."""
    if secret is None:
        secret = services.pending_totp_secret(user=current_user)
    uri = services.provisioning_uri(current_user, secret) if secret else None
    qr = segno.make(uri, micro=False).svg_data_uri(scale=4) if uri else None
    return render_template(
        "auth/enrol.html",
        form=form,
        secret=secret,
        qr=qr,
        required=current_user.needs_totp and not current_user.totp_secret,
    )


RESET_PASSWORD.route_empty("/reset", "reset_password", public)


@bp.post("/reset")
@public
def use_reset_code() -> str | Response | tuple[str, int]:
    """Choose a new password with an administrator's one-time code; then sign in as usual."""
    form = ResetPasswordForm()

    def use() -> InvalidField | None:
        try:
            resets.use_reset_code(
                username=text(form.username),
                code=text(form.code),
                new_password=text(form.new),
                address=client_address(),
            )
        except InvalidField as refused:
            return refused
        return None

    def after(refused: InvalidField | None) -> Answer:
        db.session.commit()  # a refused code too: keep the attempt counted and the failure audited
        if refused is not None:
            show_refusal(form, refused)
            return RESET_PASSWORD.show(form), 200
        return _signed_out(_("Password set. Sign in with it."))

    return login_step(form, RESET_PASSWORD.show, use, after)


def _signed_out(message: str) -> Response:
    """After a change of password or second factor: end this session (every other one has ended
    with it) and send the user to sign in again with what they just set."""
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    # After clearing the session, which holds the flashed messages too.
    flash(message, "success")
    return redirect(url_for("auth.login"))


@bp.get("/sessions")
@signed_in
def sessions() -> str:
    """The user's own open sessions: device, address, last seen; each can be ended."""
    rows = services.open_sessions(current_user)
    token = session.get("sid")
    return render_template(
        "auth/sessions.html",
        rows=[(row, services.is_current(row, token)) for row in rows],
        form=EndSessionForm(),
    )


@bp.get("/notices")
@signed_in
def security_notices() -> str:
    """What happened on the user's account: failed attempts, new devices, changes to how they
    sign in (there is no e-mail; this page is where they are told)."""
    return render_template("auth/notices.html", rows=notices.latest(current_user), form=FlaskForm())


@bp.post("/notices/seen")
@signed_in
def mark_notices_seen() -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    notices.mark_seen(user=current_user)
    db.session.commit()
    flash(_("Notices marked as seen."), "success")
    return redirect(url_for("auth.security_notices"))


@bp.app_context_processor
def notice_helpers() -> dict[str, Any]:
    """The count of unseen notices, asked only by pages for a signed-in user."""
    return {"unseen_notices": lambda: g.get("unseen_notices", 0), "notice_label": notices.label}


@bp.post("/sessions/end")
@signed_in
def end_session() -> Response:
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(400)
    row = db.session.get(UserSession, form.session_id.data)
    if row is None or row.user_id != current_user.id:
        abort(404)
    if not services.is_current(row, session.get("sid")) and not services.is_fresh(g.user_session):
        # Ending another device's session is how a stolen session would lock its owner out.
        flash(_("Confirm it is you to continue."), "info")
        return redirect(url_for("auth.reauthenticate", next=url_for("auth.sessions")))
    services.end_own_session(actor=current_user, row=row)
    db.session.commit()
    if services.is_current(row, session.get("sid")):
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))
    flash(_("Session ended."), "success")
    return redirect(url_for("auth.sessions"))
