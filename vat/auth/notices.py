"""Notices to a user of events on their own account (ASVS 6.3.5, 6.3.7): failed passwords or
codes (someone may know the password), a sign-in from a device the account never used, and any
change to how they sign in. The app sends no mail, so a notice waits in the app: every page shows
how many are unseen until the user reads them and marks them seen. Each is audited."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ScalarSelect, func, select, update

from vat import audit
from vat.auth.models import NoticeKind, SecurityNotice, User
from vat.db import db, utcnow

USER_AGENT_LENGTH = 200
SHOWN = 100  # the newest notices on the page; older ones stay in the table and the audit log

LABELS = {
    NoticeKind.FAILED_PASSWORD: _l("A wrong password was given for your account."),
    NoticeKind.FAILED_CODE: _l(
        "Your password was given with a wrong second-factor code: someone may know it."
    ),
    NoticeKind.NEW_DEVICE: _l("Signed in from a device not used before."),
    NoticeKind.PASSWORD_CHANGED: _l("Your password was changed."),
    NoticeKind.PASSWORD_RESET: _l("An administrator reset your password."),
    NoticeKind.SECOND_FACTOR_SET: _l("A new authenticator was set up for your second factor."),
    NoticeKind.SECOND_FACTOR_RESET: _l("An administrator reset your second factor."),
    NoticeKind.ACCOUNT_UNLOCKED: _l("An administrator unlocked your account."),
}


def notify(
    *, user: User, kind: NoticeKind, address: str | None = None, user_agent: str | None = None
) -> None:
    db.session.add(
        SecurityNotice(
            user_id=user.id,
            kind=kind.value,
            address=address,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
        )
    )
    about: dict[str, Any] = {"object_type": "user", "object_id": user.id, "address": address}
    audit.record("auth.notice", actor=None, detail={"kind": kind.value}, **about)


def unseen_sql(user_id: Any) -> ScalarSelect[int]:
    """How many notices the user `user_id` has not seen, as a subquery: the session's lookup reads
    it in its own statement, so the banner on every page costs no query of its own."""
    unseen = (SecurityNotice.user_id == user_id) & SecurityNotice.seen_at.is_(None)
    return select(func.count(SecurityNotice.id)).where(unseen).scalar_subquery()


def latest(user: User) -> list[SecurityNotice]:
    """The user's newest notices, unseen ones first."""
    query = (
        select(SecurityNotice)
        .where(SecurityNotice.user_id == user.id)
        .order_by(SecurityNotice.seen_at.is_not(None), SecurityNotice.id.desc())
        .limit(SHOWN)
    )
    return list(db.session.scalars(query))


def mark_seen(*, user: User) -> int:
    """The user has read their notices: every unseen one is marked seen, in one UPDATE."""
    marked = db.session.execute(
        update(SecurityNotice)
        .where(SecurityNotice.user_id == user.id, SecurityNotice.seen_at.is_(None))
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(marked, "rowcount", 0))
    audit.record(
        "auth.notices_seen", actor=user, object_type="user", object_id=user.id, detail={"count": count}
    )
    return count


def label(kind: str) -> str:
    return str(LABELS[NoticeKind(kind)])
