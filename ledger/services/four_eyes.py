"""Four eyes on every dollar that leaves the fund: the ledger's maker–checker policy.

Every outflow — a tranche to a partner, direct support to a victim, the reversal of income (a
receipt, a withheld transfer, a pledge or a withholding) — is submitted here by the service that
books it. It posts at once only while, counting it, the outflows of the last 30 days stay within
the approval threshold for its project, its case code and its payee (and, for direct support,
within the per-victim cap); otherwise it waits, posting nothing, until a second fund manager
approves it — never the one who asked. The sums are in US dollars at the month's *confirmed*
rate (one person cannot change a rate alone: `months.confirm_rate`), so splitting a payment or
bending a rate does not carry an amount under a limit.

"The last 30 days" counts an earlier outflow when its value date is within 30 days of this one's
or when it was requested in the last 30 days, so that neither back-dating nor spreading value
dates escapes the sum. Pending and posted outflows count; rejected ones do not.

The services register how each kind posts once approved (`poster`); approval posts through the
posting engine with the maker and the checker on the entry.

Every request and every decision is signed (ASVS 4.1.5): an HMAC under VAT_MAC_KEY of what was
asked (the amount in US dollars, what it pays, the payee, the maker, the time, the request's
hash) and of what was decided (status, checker, time, entry). A request whose fields no longer
match its signature — an amount, payee or maker changed in the database — is refused at
approval, and `flask ledger verify` names it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from hmac import compare_digest

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ledger import engine
from ledger.outflows import Outflow, OutflowKind, OutflowStatus
from ledger.services.booking import Booking, record_audit
from vat.auth.actor import Actor
from vat.auth.models import Role, User
from vat.crypto import mac
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed

DEFAULT_APPROVAL_THRESHOLD_USD = Decimal("10000")
DEFAULT_VICTIM_CAP_USD = Decimal("5000")
WINDOW = timedelta(days=30)

# How each kind of outflow posts once approved: (the outflow, the checker, the maker) -> entry id.
Poster = Callable[[Outflow, Actor, Actor | None], int]
_posters: dict[str, Poster] = {}
# What a rejection does to the request's own record (a tranche is marked rejected).
_on_reject: dict[str, Callable[[Outflow], None]] = {}


def register(kind: OutflowKind, *, post: Poster, rejected: Callable[[Outflow], None] | None = None) -> None:
    """How an outflow of `kind` posts once approved (or within the limits), and what rejecting it
    does to the record it pays."""
    _posters[kind.value] = post
    if rejected is not None:
        _on_reject[kind.value] = rejected


def approval_threshold() -> Decimal:
    """Above this many US dollars in 30 days (per project, case code or payee), two people."""
    value = current_app.config.get("LEDGER_APPROVAL_THRESHOLD_USD", DEFAULT_APPROVAL_THRESHOLD_USD)
    return Decimal(str(value))


def victim_cap() -> Decimal:
    """Above this many US dollars of direct support to one victim in 30 days, two people."""
    return Decimal(str(current_app.config.get("LEDGER_VICTIM_CAP_USD", DEFAULT_VICTIM_CAP_USD)))


def require_fund_manager(actor: Actor) -> None:
    if Role(actor.role) is not Role.FUND_MANAGER:
        raise NotAllowed(_l("Only a fund manager moves the fund's money."))


def existing(booking: Booking) -> Outflow | None:
    """The outflow already requested under the booking's key for this same request (None if the
    key is new); the same key with a different request is a conflict. Call under the ledger lock."""
    engine.check_key(booking.key)
    found = db.session.scalar(select(Outflow).where(Outflow.idempotency_key == booking.key))
    if found is not None and found.request_hash != engine.request_hash(booking.payload):
        raise Conflict(_l("This form was already submitted with different values; open it again."))
    return found


def window_total(
    *, on: date, project_id: int | None = None, case_code: str | None = None, payee: str | None = None
) -> int:
    """US cents of the outflows that count against a limit for an outflow dated `on`, for one
    project, case code or payee (exactly one given)."""
    query = select(func.coalesce(func.sum(Outflow.usd_minor), 0)).where(
        Outflow.status != OutflowStatus.REJECTED.value,
        or_(
            Outflow.value_date.between(on - WINDOW, on + WINDOW),
            Outflow.requested_at >= utcnow() - WINDOW,
        ),
    )
    if project_id is not None:
        query = query.where(Outflow.project_id == project_id)
    elif case_code is not None:
        query = query.where(Outflow.case_code == case_code)
    else:
        query = query.where(Outflow.payee == payee)
    return int(db.session.scalar(query) or 0)


def held_because(
    *, kind: OutflowKind, usd_minor: int, on: date, project_id: int | None, case_code: str | None, payee: str
) -> str | None:
    """Which limit this outflow would pass (project, case, payee, victim_cap), or None: it may
    post at once."""
    threshold = engine.to_minor(approval_threshold(), engine.USD)
    if project_id is not None and window_total(on=on, project_id=project_id) + usd_minor > threshold:
        return "project"
    if case_code is not None:
        case_total = window_total(on=on, case_code=case_code) + usd_minor
        if case_total > threshold:
            return "case"
        if kind is OutflowKind.DIRECT_SUPPORT and case_total > engine.to_minor(victim_cap(), engine.USD):
            return "victim_cap"
    if window_total(on=on, payee=payee) + usd_minor > threshold:
        return "payee"
    return None


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return (
        (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")
    )


def _text(*values: object) -> str:
    return "\x1f".join("" if v is None else str(v) for v in values)


def request_signature(outflow: Outflow) -> str:
    """The HMAC of what was asked: the request's id, kind, what it pays, the amount in USD minor
    units, value date, payee, project, case code, maker, time, request hash and reason."""
    o = outflow
    asked = _text(
        o.id, o.kind, o.record_id, o.usd_minor, o.value_date.isoformat(), o.payee, o.project_id,
        o.case_code, o.maker_id, _moment(o.requested_at), o.request_hash, o.reason,
    )  # fmt: skip
    return mac(asked, "ledger_outflow.request")


def decision_signature(outflow: Outflow) -> str:
    """The HMAC of what was decided, bound to the request's own signature."""
    o = outflow
    decided = _text(o.request_mac, o.status, o.checker_id, _moment(o.decided_at), o.entry_id, o.decision_note)
    return mac(decided, "ledger_outflow.decision")


def _signed_earlier(outflow: Outflow) -> bool:
    """Whether an older outflow is signed: only outflows older than every signed one (recorded
    before signatures, migration 1093) may be unsigned."""
    older = select(Outflow.id).where(Outflow.id < outflow.id, Outflow.request_mac.is_not(None)).limit(1)
    return db.session.scalar(older) is not None


def signature_problem(outflow: Outflow) -> str | None:
    """Why the outflow's signatures do not hold (None when they do, or it predates them)."""
    if outflow.request_mac is None:
        return f"outflow {outflow.id}: not signed" if _signed_earlier(outflow) else None
    if not compare_digest(outflow.request_mac, request_signature(outflow)):
        return f"outflow {outflow.id}: the request differs from what was signed"
    decided = outflow.status != OutflowStatus.PENDING.value
    if decided and not compare_digest(outflow.decision_mac or "", decision_signature(outflow)):
        return f"outflow {outflow.id}: the decision differs from what was signed"
    return None


def _decided(outflow: Outflow) -> None:
    outflow.decided_at = utcnow()
    outflow.decision_mac = decision_signature(outflow)


def submit(
    booking: Booking,
    *,
    kind: OutflowKind,
    usd: Decimal,
    on: date,
    record_id: int,
    payee: str,
    project_id: int | None = None,
    case_code: str | None = None,
    reason: str | None = None,
    pre_approved: bool = False,
) -> Outflow:
    """Record an outflow and decide it: within the limits it posts now (the registered poster,
    with the maker alone on the entry); beyond them it waits for a second fund manager. Call
    under the ledger lock (`engine.lock`), once the booking service has checked the request.
    `pre_approved`: two people approved it beforehand within limits of its own (a mission's
    rapid-response envelope, `ledger.services.envelopes`); it posts now and counts as any other."""
    actor = booking.actor
    require_fund_manager(actor)
    usd_minor = engine.to_minor(usd, engine.USD)
    held = None
    if not pre_approved:
        held = held_because(
            kind=kind, usd_minor=usd_minor, on=on, project_id=project_id, case_code=case_code, payee=payee
        )
    outflow = Outflow(
        kind=kind.value,
        status=OutflowStatus.PENDING.value,
        idempotency_key=booking.key,
        request_hash=engine.request_hash(booking.payload),
        usd_minor=usd_minor,
        value_date=on,
        project_id=project_id,
        case_code=case_code,
        payee=payee[:200],
        record_id=record_id,
        held_because=held,
        reason=reason,
        maker_id=actor.id,
        requested_at=utcnow(),
    )
    db.session.add(outflow)
    db.session.flush()
    outflow.request_mac = request_signature(outflow)
    if held is not None:
        record_audit(
            "outflow.request", actor, "outflow", outflow.id, kind=kind.value, usd=usd, held_because=held
        )
        return outflow
    outflow.entry_id = _posters[kind.value](outflow, actor, None)
    outflow.status = OutflowStatus.POSTED.value
    _decided(outflow)
    db.session.flush()
    return outflow


def _still_pending(actor: Actor, outflow: Outflow) -> None:
    """A fund manager deciding `outflow`: it is read again under the engine's lock, and must still
    wait for its decision."""
    require_fund_manager(actor)
    engine.lock()
    db.session.refresh(outflow)
    if outflow.status != OutflowStatus.PENDING.value:
        raise Conflict(_l("This request is already decided (approved or rejected)."))


def approve(*, actor: Actor, outflow: Outflow) -> Outflow:
    """The second fund manager's approval: posts the outflow through the posting engine. The
    maker may not approve their own request."""
    _still_pending(actor, outflow)
    if outflow.maker_id == actor.id:
        raise NotAllowed(_l("You made this request: another fund manager must approve it."))
    if signature_problem(outflow):
        current_app.logger.warning("refused to approve outflow %s: %s", outflow.id, "signature")
        raise Conflict(_l("This request was changed after it was made: it cannot be approved. Reject it."))
    maker = db.session.get_one(User, outflow.maker_id)
    outflow.entry_id = _posters[outflow.kind](outflow, actor, maker)
    outflow.status = OutflowStatus.POSTED.value
    outflow.checker_id = actor.id
    _decided(outflow)
    db.session.flush()
    record_audit("outflow.approve", actor, "outflow", outflow.id, kind=outflow.kind, maker=maker.id)
    return outflow


def reject(*, actor: Actor, outflow: Outflow, reason: str) -> Outflow:
    """A second fund manager refuses the request (the maker may withdraw their own): nothing posts."""
    _still_pending(actor, outflow)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason for rejecting."))
    outflow.status = OutflowStatus.REJECTED.value
    outflow.checker_id = actor.id
    outflow.decision_note = reason[:300]
    _decided(outflow)
    if outflow.kind in _on_reject:
        _on_reject[outflow.kind](outflow)
    db.session.flush()
    record_audit("outflow.reject", actor, "outflow", outflow.id, kind=outflow.kind, reason=reason)
    return outflow


def of_record(kind: OutflowKind, record_id: int) -> Outflow | None:
    """The latest outflow that pays a tranche or direct-support row (or reverses an entry)."""
    return db.session.scalar(
        select(Outflow)
        .where(Outflow.kind == kind.value, Outflow.record_id == record_id)
        .order_by(Outflow.id.desc())
        .limit(1)
    )


def pending() -> list[Outflow]:
    return list(
        db.session.scalars(
            select(Outflow)
            .where(Outflow.status == OutflowStatus.PENDING.value)
            .order_by(Outflow.requested_at)
        )
    )


def waiting_for(actor: Actor) -> int:
    """How many requests this fund manager may approve: pending ones another person made."""
    return (
        db.session.scalar(
            select(func.count(Outflow.id)).where(
                Outflow.status == OutflowStatus.PENDING.value, Outflow.maker_id != actor.id
            )
        )
        or 0
    )
