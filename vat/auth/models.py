from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vat.crypto import EncryptedText
from vat.db import Base, UTCDateTime, one_of, utcnow


class Role(enum.StrEnum):
    ADVOCATE = "advocate"
    SENIOR_ADVOCATE = "senior_advocate"
    FUND_MANAGER = "fund_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def sees_identities(self) -> bool:
        return self in (Role.ADVOCATE, Role.SENIOR_ADVOCATE)


ROLE_LABELS = {
    Role.ADVOCATE: _l("advocate"),
    Role.SENIOR_ADVOCATE: _l("senior advocate"),
    Role.FUND_MANAGER: _l("fund manager"),
    Role.AUDITOR: _l("auditor"),
    Role.ADMIN: _l("admin"),
}


class User(UserMixin, Base):
    __tablename__ = "auth_user"
    __table_args__ = (one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The TOTP secret is encrypted like any identity field; None until the user enrols.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("auth_user.totp_secret"))
    totp_last_timecode: Mapped[int] = mapped_column(Integer, default=0)
    # Wrong second-factor codes since the last right one; a right password does not reset it.
    totp_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the account locks (too many wrong codes); only an administrator clears it.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None: VAT_TIME_ZONE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An administrator's password reset: the SHA-256 of a one-time code and when it expires. The
    # code only lets its owner choose a new password (vat.auth.resets); it never signs anyone in.
    reset_code_hash: Mapped[str | None] = mapped_column(String(64))
    reset_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an administrator resets the second factor: the user enrols again at next sign-in,
    # whatever their role.
    must_enrol_totp: Mapped[bool] = mapped_column(Boolean, default=False)

    scopes: Mapped[list[UserScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def needs_totp(self) -> bool:
        return Role(self.role).sees_identities or self.must_enrol_totp

    @property
    def scope_label(self) -> str:
        return ", ".join(str(s) for s in self.scopes) or "—"


class UserScope(Base):
    """One country, or one mission within a country, that a user works on."""

    __tablename__ = "auth_user_scope"
    __table_args__ = (UniqueConstraint("user_id", "country_code", "mission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    country_code: Mapped[str] = mapped_column(String(3))
    mission: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="scopes")

    def __str__(self) -> str:
        return f"{self.country_code}/{self.mission}" if self.mission else self.country_code


class UserSession(Base):
    """A server-side session: the cookie carries a random token whose hash is stored here."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class TotpEnrolment(Base):
    """A new authenticator's secret while its owner confirms it: kept here, encrypted, never in
    the (signed, readable) session cookie."""

    __tablename__ = "auth_totp_enrolment"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(EncryptedText("auth_totp_enrolment.secret"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeKind(enum.StrEnum):
    """What a user is told about their own account (vat.auth.notices)."""

    FAILED_PASSWORD = "failed_password"  # noqa: S105  # a kind of notice, not a password
    FAILED_CODE = "failed_code"
    NEW_DEVICE = "new_device"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    SECOND_FACTOR_SET = "second_factor_set"
    SECOND_FACTOR_RESET = "second_factor_reset"
    ACCOUNT_UNLOCKED = "account_unlocked"


class SecurityNotice(Base):
    """One event on a user's account that its owner should know of, shown in the app until they
    mark it seen: there is no e-mail to send it by."""

    __tablename__ = "auth_security_notice"
    __table_args__ = (one_of("kind", NoticeKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Login attempts per account (or known device) and per address, kept in the database so every
    process sees them. `failures` counts attempts not yet followed by a success; `locked_until` is
    the time before which the key may not try again."""

    __tablename__ = "auth_login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BreakGlass(Base):
    """A senior advocate's stated reason for opening one record outside their scope."""

    __tablename__ = "auth_break_glass"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(EncryptedText("auth_break_glass.reason"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])


class AdminRequestKind(enum.StrEnum):
    CREATE_USER = "create_user"
    CHANGE_USER = "change_user"
    RESET_PASSWORD = "reset_password"  # noqa: S105  # a kind of request, not a password
    RESET_SECOND_FACTOR = "reset_second_factor"


class AdminRequestStatus(enum.StrEnum):
    PENDING = "pending"  # waits for a second administrator (until expires_at)
    APPROVED = "approved"
    REFUSED = "refused"
    ALONE = "alone"  # a one-admin office (VAT_SINGLE_ADMIN_OFFICE): done by one, listed for review


class IdentityCheck(enum.StrEnum):
    """How an administrator made sure it is the account's owner who lost their second factor
    (ASVS 6.4.4): recorded with the reset, shown to the approving administrator."""

    IN_PERSON = "in_person"
    VIDEO_CALL = "video_call"
    CALL_BACK = "call_back"


IDENTITY_CHECK_LABELS = {
    IdentityCheck.IN_PERSON: _l("in person, with an official photo identity document"),
    IdentityCheck.VIDEO_CALL: _l("on a video call, face and photo identity document matched"),
    IdentityCheck.CALL_BACK: _l("called back on the number on file, and confirmed by their supervisor"),
}
REQUEST_KIND_LABELS = {
    AdminRequestKind.CREATE_USER: _l("new account"),
    AdminRequestKind.CHANGE_USER: _l("role, scope or status"),
    AdminRequestKind.RESET_PASSWORD: _l("password reset"),
    AdminRequestKind.RESET_SECOND_FACTOR: _l("second-factor reset"),
}
REQUEST_STATUS_LABELS = {
    AdminRequestStatus.PENDING: _l("waiting"),
    AdminRequestStatus.APPROVED: _l("approved"),
    AdminRequestStatus.REFUSED: _l("refused"),
    AdminRequestStatus.ALONE: _l("done alone"),
}


class AdminRequest(Base):
    """One administrator's act on a privileged account (vat.auth.admin_requests): it takes effect
    when a second administrator approves it, never the one who asked."""

    __tablename__ = "auth_admin_request"
    __table_args__ = (
        one_of("kind", AdminRequestKind),
        one_of("status", AdminRequestStatus),
        one_of("identity_check", IdentityCheck),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The account acted on (None until a requested account is created).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), index=True)
    # What the account is to become: the username (a new account), role, scope and active flag.
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool | None] = mapped_column(Boolean)
    # A new account's initial password, hashed when asked (never kept in clear).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    identity_check: Mapped[str | None] = mapped_column(String(20))  # a second-factor reset's
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A single-admin act read by an auditor (or a later second administrator).
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class FormDraft(Base):
    """What a user typed in a form they had to leave (to record a missing consent): kept here,
    encrypted, under the hash of a random token that the return address carries — never the
    values themselves in an address or the (signed, readable) session cookie (vat.drafts)."""

    __tablename__ = "auth_form_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    fields: Mapped[str] = mapped_column(EncryptedText("auth_form_draft.fields"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
