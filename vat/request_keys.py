"""Request keys: every create form carries a key minted when the page was rendered, and the first
submission under a key is the only one that changes anything.

The key is claimed in the same transaction as the create, by an insert that the primary key lets
through once: on PostgreSQL a second insert of the same key waits for the first transaction and
then does nothing (or goes ahead if it rolled back); on SQLite writers are already serialised. A
second submission with the same values is sent to what the first one recorded; with different
values it is refused. The ledger's entries keep their own key as well (invariant 4, for callers
without a form)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import click
from flask import abort, current_app, flash, redirect, request
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ForeignKey, Integer, String, delete, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import Optional, Regexp

from vat import drafts
from vat.db import Base, BeginMode, UTCDateTime, begin_mode, db, utcnow
from vat.errors import Conflict

KEY_PATTERN = r"^[0-9a-f]{32}$"
UNHASHED = frozenset({"csrf_token", "key"})


class RequestKey(Base):
    """A key used by a submitted form: who, which form, a keyed digest of what was submitted (never
    the values: they may name a victim), and where its result is."""

    __tablename__ = "vat_request_key"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[str | None] = mapped_column(String(80))  # "<table>:<id>" of the row created
    target: Mapped[str | None] = mapped_column(String(500))  # the page the first answer redirected to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KeyedForm(FlaskForm):
    """A create form: `key` is new each time the page is rendered. A client that sends none gets a
    new one, as a page rendered afresh would (the key protects the form's own resubmissions). A
    form that does not `record_once` (a file loaded: the key's digest does not see the file) only
    carries the key, for what else it says (vat.human_time)."""

    record_once: ClassVar[bool] = True
    key = HiddenField(validators=[Optional(), Regexp(KEY_PATTERN, message=_l("This form has expired."))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.key.data:
            self.key.data = self.new_key()

    def new_key(self) -> str:
        """The key of a form rendered afresh (a money form's carries when: vat.human_time)."""
        return uuid.uuid4().hex

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate; but a submission already recorded under this key with these values is answered
        at once as a repeat (302 to its result), valid or not: the first one may have changed what
        the form offers (a task it closed), and every handler, `submit`, `act` or its own, is spared
        telling a repeat from an error."""
        valid = bool(super().validate(extra_validators))
        if self.record_once and "csrf_token" not in self.errors and not self.key.errors:
            earlier = repeated(self)
            if earlier is not None:
                abort(already_recorded(earlier))
        return valid

    @property
    def data(self) -> dict[str, Any]:
        """The values the form records: the key is about the submission, not the record."""
        return {name: value for name, value in super().data.items() if name != "key"}


ALREADY_RECORDED = _l("Already recorded: this form had been submitted before, nothing was added.")
CHANGED_VALUES = _l("This form was already submitted with different values; open it again.")


class KeyReused(Conflict):
    """The form's key was used for another submission (other values, form or user)."""


@dataclass
class Claim:
    """A form's key claimed: `earlier` is the claim of a submission that took it first (None: this
    submission is the first)."""

    key: str
    earlier: RequestKey | None


def request_hash() -> str:
    """A digest of what was submitted (as sent: the form a view builds may depend on what the first
    submission changed), to which form, by whom; keyed, so that it cannot test guesses of the values."""
    values = sorted((name, value) for name, value in request.form.items(multi=True) if name not in UNHASHED)
    payload = {
        "endpoint": request.endpoint,
        "args": request.view_args,
        "query": sorted(request.args.items(multi=True)),
        "user": getattr(current_user, "id", None),
        "values": values,
    }
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _insert_once(values: dict[str, Any]) -> bool:
    """Insert the claim unless its key is taken; True if this insert took it."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(RequestKey).values(**values).on_conflict_do_nothing(index_elements=["key"])
    return db.session.execute(statement.returning(RequestKey.key)).scalar() is not None


def claim_once(key: str, *, endpoint: str, user_id: int | None) -> bool:
    """Claim a key for work without a form (a job's save, by the job's id) in the current
    transaction; False if it was taken: that work was done and committed before."""
    return _insert_once(
        {"key": key, "endpoint": endpoint, "user_id": user_id, "request_hash": "", "created_at": utcnow()}
    )


def taken(key: str) -> bool:
    return db.session.get(RequestKey, key) is not None


def repeated(form: KeyedForm) -> RequestKey | None:
    """The claim of an earlier submission of these very values with this key, if any: the form
    may no longer validate because that submission changed what it offers (a task it closed)."""
    row = db.session.get(RequestKey, str(form.key.data or ""))
    if row is None or not hmac.compare_digest(row.request_hash, request_hash()):
        return None
    return row


def already_recorded(earlier: RequestKey) -> Response:
    """A second submission of a form: nothing more is done; back to what the first one recorded."""
    db.session.rollback()
    flash(str(ALREADY_RECORDED), "success")
    return redirect(earlier.target or request.path)


def claim(form: KeyedForm) -> Claim:
    """Claim the form's key in the current transaction. Raise `Conflict` if it was used for
    something else; otherwise say whether an earlier submission had claimed it."""
    key = str(form.key.data)
    digest = request_hash()
    values = {
        "key": key,
        "endpoint": request.endpoint or "",
        "user_id": getattr(current_user, "id", None),
        "request_hash": digest,
        "created_at": utcnow(),
    }
    if _insert_once(values):
        return Claim(key, earlier=None)
    row = db.session.scalars(
        select(RequestKey).where(RequestKey.key == key).execution_options(populate_existing=True)
    ).one()
    if not hmac.compare_digest(row.request_hash, digest):
        raise KeyReused(str(CHANGED_VALUES))
    return Claim(key, earlier=row)


def settle(claimed: Claim, result: object, target: str) -> None:
    """Remember what the first submission created and where it led, before the commit."""
    record = None
    state = inspect(result, raiseerr=False)
    if state is not None and getattr(state, "identity", None):
        record = f"{state.mapper.local_table.name}:{':'.join(str(part) for part in state.identity)}"
    db.session.execute(
        update(RequestKey).where(RequestKey.key == claimed.key).values(record=record, target=target[:500])
    )


def prune(*, older_than: timedelta) -> int:
    """Forget the keys used more than `older_than` ago (a page is not resubmitted after days);
    how many were forgotten."""
    cutoff = utcnow() - older_than
    count = db.session.scalar(select(func.count()).where(RequestKey.created_at < cutoff)) or 0
    db.session.execute(delete(RequestKey).where(RequestKey.created_at < cutoff))
    return count


def prune_expired() -> int:
    """Forget the keys older than VAT_REQUEST_KEY_DAYS, and the form drafts past their time, in a
    short transaction of their own; the jobs' worker runs it every day (`vat.jobs`)."""
    with begin_mode(BeginMode.IMMEDIATE):
        count = prune(older_than=timedelta(days=current_app.config["VAT_REQUEST_KEY_DAYS"]))
        drafts.forget_expired()
        db.session.commit()
    return count


@click.group("request-keys", cls=AppGroup)
def request_keys_group() -> None:
    """The keys of submitted forms."""


@request_keys_group.command("prune")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1))
def prune_command(days: int) -> None:
    """Forget the keys of forms submitted more than DAYS days ago (the worker does it daily with
    VAT_REQUEST_KEY_DAYS)."""
    count = prune(older_than=timedelta(days=days))
    db.session.commit()
    click.echo(f"forgot {count} request keys older than {days} days")
