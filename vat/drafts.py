"""A form's draft: what a user typed in a form they had to leave (to record a missing consent),
kept server-side, encrypted, for that user and that form's address, under a random token. The way
back carries only the token (`?draft=…`), so nothing typed — a victim's service, a provider's
name — reaches an address, a browser history, a server log or the session cookie."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from werkzeug.datastructures import MultiDict

from vat.auth.actor import Actor
from vat.auth.models import FormDraft
from vat.db import db, utcnow

KEPT_FOR = timedelta(hours=12)  # a working day: a draft older than this is gone
NOT_KEPT = ("csrf_token", "key")  # the submission's own tokens: a form rendered afresh gets new ones


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep(*, actor: Actor, token: str, path: str, values: MultiDict[str, str]) -> None:
    """Keep what was typed in the form at `path` under `token`, replacing the user's earlier draft
    of the same form. Flushed, not committed."""
    now = utcnow()
    forget(actor=actor, path=path)
    fields = {name: values.getlist(name) for name in values if name not in NOT_KEPT}
    db.session.add(
        FormDraft(
            token_hash=_hash(token), user_id=actor.id, path=path, fields=json.dumps(fields), created_at=now
        )
    )
    db.session.flush()


def forget(*, actor: Actor, path: str) -> None:
    """The user's draft of the form at `path` is no longer needed (the form was recorded). Flushed."""
    db.session.execute(delete(FormDraft).where(FormDraft.user_id == actor.id, FormDraft.path == path))


def forget_expired() -> int:
    """Delete the drafts past their time (the jobs' worker does it daily); how many. Flushed."""
    expired = FormDraft.created_at < utcnow() - KEPT_FOR
    count = db.session.scalar(select(func.count()).select_from(FormDraft).where(expired)) or 0
    db.session.execute(delete(FormDraft).where(expired))
    return count


def _find(actor: Actor, token: str | None) -> FormDraft | None:
    if not token or len(token) > 64:
        return None
    draft = db.session.scalar(select(FormDraft).where(FormDraft.token_hash == _hash(token)))
    if draft is None or draft.user_id != actor.id or draft.created_at < utcnow() - KEPT_FOR:
        return None
    return draft


def recall(*, actor: Actor, token: str | None, path: str | None = None) -> MultiDict[str, str] | None:
    """The values kept under `token` for this user (and the form at `path`, if given), or None
    (another user's or another form's token, an expired draft, none)."""
    draft = _find(actor, token)
    if draft is None or (path is not None and draft.path != path):
        return None
    return MultiDict([(name, value) for name, values in json.loads(draft.fields).items() for value in values])


def way_back(*, actor: Actor, token: str | None) -> str | None:
    """The address of the form the draft was typed in, to go back to it with its values."""
    draft = _find(actor, token)
    return None if draft is None else f"{draft.path}?draft={token}"
