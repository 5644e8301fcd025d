"""Projects: grants approved within what the fund can commit, their progress and end, and the
tranches paid to partners (with maker–checker above a threshold and the programme support cost)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NoReturn

from flask import current_app
from flask.signals import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import engine, memos
from ledger.engine import CASH, GRANT_EXPENSE, GRANTS_PAYABLE, PROGRAMME_SUPPORT, USD, EntryKind, Line
from ledger.models import (
    ExchangeRate,
    Project,
    ProjectBeneficiary,
    ProjectFocus,
    ProjectPayment,
    ProjectStatus,
    Tranche,
)
from ledger.outflows import Outflow, OutflowKind
from ledger.services import four_eyes
from ledger.services.booking import (
    Booking,
    amount_field,
    booked_rate,
    clearing_line,
    country,
    currency_field,
    day_field,
    is_reversed,
    on_field,
    pair,
    positive,
    rate_field,
    record_audit,
    with_exchange_difference,
)
from vat.auth.actor import Actor
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError
from vat.inputs import InvalidField, clean_text, each_field
from vat.money import shown

DEFAULT_PSC_RATE = Decimal("0.13")

# Sent, inside the booking transaction, when a tranche that paid victims posts (or is reversed);
# the victims domain records each payment that reached a victim (the ledger never imports it).
signals = Namespace()
project_payees_named = signals.signal("ledger-project-payees-named")  # a receiver refuses unknown ones
project_payments_paid = signals.signal("ledger-project-payments-paid")
project_payments_reversed = signals.signal("ledger-project-payments-reversed")

approval_threshold = four_eyes.approval_threshold


def psc_rate() -> Decimal:
    return Decimal(str(current_app.config.get("LEDGER_PSC_RATE", DEFAULT_PSC_RATE)))


def programme_support(usd: Decimal) -> Decimal:
    """The programme support cost on `usd`, to the cent."""
    return (usd * psc_rate()).quantize(engine.CENT, rounding=ROUND_HALF_EVEN)


def fund_position() -> dict[str, Decimal]:
    """Cash, open commitments (grants approved, not yet disbursed), the programme support cost
    those commitments will draw, and what is left to commit — all in US dollars. Each balance is
    its account's latest running balance (one index probe), not a sum over its postings."""
    cash = engine.cents(engine.running_usd(engine.account_id(CASH)))
    commitments = -engine.cents(engine.running_usd(engine.account_id(GRANTS_PAYABLE)))
    reserve = programme_support(commitments)
    return {
        "cash": cash,
        "commitments": commitments,
        "psc_reserve": reserve,
        "available": cash - commitments - reserve,
    }


def approve_project(
    *,
    actor: Actor,
    key: str,
    title: str,
    partner: str,
    country_code: str,
    focus: ProjectFocus,
    currency: str,
    amount: Decimal,
    approved_on: date,
    planned_start: date,
    planned_end: date,
    case_codes: list[str] | None = None,
) -> Project:
    """A grant approved by the review committee, within what is available to commit."""
    currency = currency.upper()
    codes = sorted({c.strip().upper() for c in case_codes or [] if c.strip()})
    payload = {
        "event": "grant_approval",
        "title": title,
        "partner": partner,
        "country": country_code,
        "focus": focus.value,
        "currency": currency,
        "amount": amount,
        "on": approved_on,
        "start": planned_start,
        "end": planned_end,
        "cases": codes,
    }
    booking = Booking(actor, key, payload)
    if done := booking.booked_before(Project):
        return done
    checked = each_field(
        {
            "title": lambda: clean_text("title", title, max_length=200, required=True),
            "partner": lambda: clean_text("partner", partner, max_length=120, required=True),
            "country_code": lambda: country(country_code),
            "currency": currency_field(currency),
            "approved_on": day_field(approved_on, "approved_on"),
            "rate": rate_field(currency, approved_on),
            "planned_end": lambda: _planned_end(planned_start, planned_end),
            "amount": lambda: _committable(amount, currency, approved_on),
        }
    )
    code, rate = checked["country_code"], checked["rate"]
    project = Project(
        title=checked["title"],
        partner=checked["partner"],
        country_code=code,
        focus=focus.value,
        currency=currency,
        approved_minor=engine.to_minor(amount, currency),
        approved_on=approved_on,
        planned_start=planned_start,
        planned_end=planned_end,
        status=ProjectStatus.APPROVED.value,
        victims_supported=len(codes),
    )
    db.session.add(project)
    db.session.flush()
    for case_code in codes:
        db.session.add(ProjectBeneficiary(project_id=project.id, case_code=case_code))
    dims = {"project_id": project.id, "country_code": code}
    booking.book(
        project,
        kind=EntryKind.GRANT_APPROVAL,
        on=approved_on,
        memo=memos.GRANT.write(title=project.title, partner=project.partner),
        lines=pair(GRANT_EXPENSE, GRANTS_PAYABLE, currency, amount, rate, dims),
    )
    return project


def _planned_end(start: date, end: date) -> date:
    if end < start:
        raise InvalidField("planned_end", _l("The planned end is before the planned start."))
    return end


def _committable(amount: Decimal, currency: str, on: date) -> Decimal:
    """An amount the fund can commit: it and its programme support cost within what is available."""
    amount_field(amount, currency)()
    try:
        rate = engine.rate_for(currency, on)
    except DomainError:
        return amount  # said on the currency
    usd = engine.to_usd(amount, rate.rate if rate else Decimal(1))
    available = fund_position()["available"]
    needed = usd + programme_support(usd)
    if needed > available:
        raise InvalidField(
            "amount",
            _l(
                "Not enough to commit: US$%(available)s is available; this grant and its programme "
                "support cost need US$%(needed)s.",
                available=shown(available),
                needed=shown(needed),
            ),
        )
    return amount


def undisbursed(project: Project) -> Decimal:
    """What is approved and not yet disbursed, in the project's currency."""
    return -engine.currency_balance(GRANTS_PAYABLE, project.currency, project_id=project.id)


def pending_total(project: Project) -> Decimal:
    minor = db.session.scalar(
        select(func.coalesce(func.sum(Tranche.amount_minor), 0)).where(
            Tranche.project_id == project.id, Tranche.status == "pending"
        )
    )
    return engine.from_minor(minor or 0, project.currency)


def update_project(
    *,
    actor: Actor,
    project: Project,
    status: ProjectStatus,
    actual_start: date | None,
    actual_end: date | None,
    victims_supported: int,
    add_case_codes: list[str] | None = None,
) -> Project:
    """Progress of a project (no money moves: cancelling releases the rest via `cancel_project`)."""
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(_l("The project has ended (cancelled or completed)."))
    if status is ProjectStatus.CANCELLED or (status is ProjectStatus.COMPLETED and undisbursed(project)):
        raise DomainError(
            _l("Use “End the project” to cancel or complete it: it releases what is undisbursed.")
        )
    if actual_start and actual_end and actual_end < actual_start:
        raise DomainError(_l("The actual end is before the actual start."))
    if status is ProjectStatus.COMPLETED and not actual_end:
        raise DomainError(_l("A completed project needs its actual end date."))
    if victims_supported < 0:
        raise DomainError(_l("The number of victims cannot be negative."))
    known = {b.case_code for b in project.beneficiaries}
    for code in sorted({c.strip().upper() for c in add_case_codes or [] if c.strip()} - known):
        db.session.add(ProjectBeneficiary(project_id=project.id, case_code=code))
        known.add(code)
    before = {"status": project.status, "start": project.actual_start, "end": project.actual_end}
    project.status = status.value
    project.actual_start = actual_start
    project.actual_end = actual_end
    project.victims_supported = max(victims_supported, len(known))
    db.session.flush()
    record_audit("project.update", actor, "project", project.id, before=before, status=status.value)
    return project


def release_project(
    *, actor: Actor, key: str, project: Project, on: date, reason: str, status: ProjectStatus
) -> Project:
    """End a project — cancelled, or completed with money left — and give its undisbursed
    commitment back to the fund."""
    reason = (reason or "").strip()
    payload = {
        "event": "grant_release",
        "project": project.id,
        "on": on,
        "reason": reason,
        "status": status.value,
    }
    booking = Booking(actor, key, payload)
    if booking.begin():
        return project
    each_field(
        {
            "status": lambda: _ends_as(status),
            "reason": lambda: (
                clean_text("reason", reason, max_length=200)
                or _refused("reason", _l("Say why the project ends with money undisbursed."))
            ),
            "on": lambda: day_field(on, "on")() if undisbursed(project) else on,
            "project": on_field("project", lambda: _releasable(project)),  # shown above the form
        }
    )
    left = undisbursed(project)
    project.status = status.value
    if status is ProjectStatus.COMPLETED:
        project.actual_end = project.actual_end or on
    if left:
        dims = {"project_id": project.id, "country_code": project.country_code}
        usd = -engine.usd_balance(GRANTS_PAYABLE, project_id=project.id)
        rate = booked_rate(GRANTS_PAYABLE, project_id=project.id)
        booking.book(
            kind=EntryKind.GRANT_RELEASE,
            on=on,
            memo=memos.RELEASE.write(status=status.value, title=project.title, reason=reason),
            lines=[
                Line(GRANTS_PAYABLE, project.currency, left, rate, usd=usd, dims=dims),
                Line(GRANT_EXPENSE, project.currency, -left, rate, usd=-usd, dims=dims),
            ],
        )
        project.released_minor = engine.to_minor(left, project.currency)
    db.session.flush()
    record_audit(
        "project.release", actor, "project", project.id, released=left, status=status.value, reason=reason
    )
    return project


def _ends_as(status: ProjectStatus) -> ProjectStatus:
    if status not in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        _refused("status", _l("A project is released when it is cancelled or completed."))
    return status


def _releasable(project: Project) -> Project:
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(_l("The project has already ended (cancelled or completed)."))
    if is_reversed(project.entry_id):
        raise DomainError(_l("The project's approval was reversed."))
    if pending_total(project):
        raise DomainError(_l("Decide the pending disbursements of this project first."))
    return project


def _refused(field: str, message: Any) -> NoReturn:
    raise InvalidField(field, message)


def request_disbursement(
    *,
    actor: Actor,
    key: str,
    project: Project,
    amount: Decimal,
    paid_on: date,
    reference: str,
    victim_payments: Sequence[tuple[str, Decimal]] = (),
) -> Tranche:
    """A tranche to the project's partner: posted at once while the project's and the partner's
    outflows of 30 days stay within the approval threshold (in US dollars, at the confirmed
    rate), otherwise left pending until another fund manager approves it (`four_eyes`).
    `victim_payments` is what the tranche paid victims, by case code (in the project's currency,
    at most the tranche): each counts as money that reached its victim once the tranche posts."""
    payees_refused: list[InvalidField] = []
    try:
        paid = _victim_payments(victim_payments, amount, project.currency)
    except DomainError as refused:
        payees_refused, paid = [InvalidField("victim_payments", refused.args[0])], []
    payload: dict[str, object] = {
        "event": "disbursement",
        "project": project.id,
        "amount": amount,
        "on": paid_on,
        "ref": reference,
    }
    if paid:
        payload["victims"] = [[code, str(value)] for code, value in paid]
    engine.lock()
    engine.check_key(key)
    four_eyes.require_fund_manager(actor)
    existing = db.session.scalar(select(Tranche).where(Tranche.idempotency_key == key))
    if existing is not None:
        if existing.request_hash != engine.request_hash(payload):
            raise Conflict(_l("This form was already submitted with different values; open it again."))
        return existing
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(
            _l("The project has ended (cancelled or completed): nothing more can be disbursed.")
        )
    checked = each_field(
        {
            "reference": lambda: clean_text("reference", reference, max_length=80, required=True),
            "paid_on": day_field(paid_on, "paid_on"),
            "rate": rate_field(project.currency, paid_on, "paid_on"),
            "amount": lambda: _disbursable(project, amount),
            # checked when requested, not only when a pending tranche is approved
            "payees": on_field("victim_payments", lambda: _payees_named(actor, paid)),
        },
        found=payees_refused,
    )
    rate = checked["rate"]
    usd = engine.to_usd(amount, rate.rate if rate else Decimal(1))
    tranche = Tranche(
        project_id=project.id,
        amount_minor=engine.to_minor(amount, project.currency),
        paid_on=paid_on,
        reference=reference.strip(),
        idempotency_key=key,
        request_hash=engine.request_hash(payload),
        status="pending",
        maker_id=actor.id,
    )
    db.session.add(tranche)
    db.session.flush()
    _record_victim_payments(project, tranche, paid)
    four_eyes.submit(
        Booking(actor, key, payload),
        kind=OutflowKind.TRANCHE,
        usd=usd,
        on=paid_on,
        record_id=tranche.id,
        payee=f"partner:{project.partner}",
        project_id=project.id,
    )
    return tranche


def _payees_named(actor: Actor, paid: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    if paid:
        project_payees_named.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=actor,
            case_codes=[code for code, _ in paid],
        )
    return paid


def _disbursable(project: Project, amount: Decimal) -> Decimal:
    amount_field(amount, project.currency)()
    room = undisbursed(project) - pending_total(project)
    if amount > room:
        raise InvalidField(
            "amount",
            _l(
                "Only %(currency)s %(amount)s of the approved amount is undisbursed "
                "(after pending requests).",
                currency=project.currency,
                amount=shown(room),
            ),
        )
    return amount


def _victim_payments(
    payments: Sequence[tuple[str, Decimal]], tranche: Decimal, currency: str
) -> list[tuple[str, Decimal]]:
    """The payments to victims checked: a case code each, once, a positive amount in the
    project's currency, and no more in all than the tranche."""
    checked: list[tuple[str, Decimal]] = []
    for case_code, amount in payments:
        code = (case_code or "").strip().upper()
        if not code or len(code) > 40:
            raise DomainError(_l("Give each victim's case code."))
        if code in {c for c, _ in checked}:
            raise DomainError(_l("Case code %(code)s is given twice.", code=code))
        positive(amount)
        engine.to_minor(amount, currency)  # refuses more decimals than the currency has
        checked.append((code, amount))
    total = sum((amount for _, amount in checked), Decimal(0))
    if total > tranche:
        raise DomainError(
            _l(
                "The payments to victims (%(currency)s %(total)s) are more than the tranche "
                "(%(currency)s %(amount)s).",
                currency=currency,
                total=shown(total),
                amount=shown(tranche),
            )
        )
    return sorted(checked)


def _record_victim_payments(project: Project, tranche: Tranche, paid: list[tuple[str, Decimal]]) -> None:
    """The tranche's payments to victims, waiting with it until it posts; a victim paid is one of
    the project's beneficiaries."""
    listed = {b.case_code for b in project.beneficiaries}
    for code, amount in paid:
        db.session.add(
            ProjectPayment(
                tranche_id=tranche.id,
                project_id=project.id,
                case_code=code,
                amount_minor=engine.to_minor(amount, project.currency),
                usd_minor=0,  # set at the tranche's rate when it posts
            )
        )
        if code not in listed:
            db.session.add(ProjectBeneficiary(project_id=project.id, case_code=code))
    if paid:
        project.victims_supported = max(project.victims_supported, len(listed | {c for c, _ in paid}))
        db.session.flush()
        db.session.expire(project, ["beneficiaries"])


def _outflow(tranche: Tranche) -> Outflow:
    outflow = four_eyes.of_record(OutflowKind.TRANCHE, tranche.id)
    if outflow is None:
        raise Conflict(_l("This disbursement is already decided (approved or rejected)."))
    return outflow


def approve_disbursement(*, actor: Actor, tranche: Tranche) -> Tranche:
    """The second fund manager's approval: the maker may not approve their own request."""
    four_eyes.approve(actor=actor, outflow=_outflow(tranche))
    return tranche


def reject_disbursement(*, actor: Actor, tranche: Tranche, reason: str) -> Tranche:
    four_eyes.reject(actor=actor, outflow=_outflow(tranche), reason=reason)
    return tranche


def _post_approved(outflow: Outflow, actor: Actor, maker: Actor | None) -> int:
    tranche = db.session.get_one(Tranche, outflow.record_id)
    _post_tranche(actor=actor, tranche=tranche, maker=maker)
    return tranche.entry_id or 0


def _rejected(outflow: Outflow) -> None:
    tranche = db.session.get_one(Tranche, outflow.record_id)
    tranche.status = "rejected"
    tranche.checker_id = outflow.checker_id
    tranche.decided_at = outflow.decided_at


four_eyes.register(OutflowKind.TRANCHE, post=_post_approved, rejected=_rejected)


def _post_tranche(*, actor: Actor, tranche: Tranche, maker: Actor | None) -> None:
    project = tranche.project
    amount = engine.from_minor(tranche.amount_minor, project.currency)
    if amount > undisbursed(project):
        raise DomainError(
            _l(
                "Only %(currency)s %(amount)s of the approved amount is undisbursed.",
                currency=project.currency,
                amount=shown(undisbursed(project)),
            )
        )
    dims = {"project_id": project.id, "country_code": project.country_code}
    booking = Booking(actor, tranche.idempotency_key, {"event": "disbursement", "tranche": tranche.id}, maker)
    cleared = clearing_line(
        GRANTS_PAYABLE, project.currency, amount, record={"project_id": project.id}, dims=dims, sign=1
    )
    cash = Line(
        CASH, project.currency, -amount, engine.rate_for(project.currency, tranche.paid_on), dims=dims
    )
    lines = with_exchange_difference([cleared, cash], project.currency, dims)
    entry = booking.book(
        kind=EntryKind.DISBURSEMENT,
        on=tranche.paid_on,
        memo=memos.TRANCHE.write(partner=project.partner, title=project.title, reference=tranche.reference),
        lines=lines,
    )
    cash_id = engine.account_id(CASH)
    paid_usd = -sum(p.usd_minor for p in entry.postings if p.account_id == cash_id)
    psc = programme_support(engine.cents(paid_usd))
    psc_entry = None
    if psc:
        psc_entry = replace(booking, key=booking.key + ":psc").book(
            kind=EntryKind.PROGRAMME_SUPPORT,
            on=tranche.paid_on,
            memo=memos.SUPPORT_COST.write(rate=f"{psc_rate() * 100:.2f}", seq=entry.seq),
            lines=pair(PROGRAMME_SUPPORT, CASH, USD, psc, None, dims),
        )
    _post_victim_payments(actor=actor, tranche=tranche, entry_id=entry.id, rate=cash.rate)
    tranche.status = "posted"
    tranche.entry_id = entry.id
    tranche.psc_entry_id = psc_entry.id if psc_entry else None
    tranche.checker_id = actor.id if maker is not None else None
    tranche.decided_at = utcnow()
    if project.status == ProjectStatus.APPROVED:
        project.status = ProjectStatus.ONGOING.value
        project.actual_start = project.actual_start or tranche.paid_on
    db.session.flush()


def _post_victim_payments(
    *, actor: Actor, tranche: Tranche, entry_id: int, rate: ExchangeRate | None
) -> None:
    """The tranche posted: its payments to victims stand with its entry, valued in US cents at
    the tranche's rate, and the victims domain records each as money that reached the victim."""
    payments = list(db.session.scalars(select(ProjectPayment).where(ProjectPayment.tranche_id == tranche.id)))
    if not payments:
        return
    project = tranche.project
    for payment in payments:
        amount = engine.from_minor(payment.amount_minor, project.currency)
        payment.usd_minor = engine.to_minor(engine.to_usd(amount, rate.rate if rate else Decimal(1)), USD)
        payment.entry_id = entry_id
    db.session.flush()
    project_payments_paid.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        actor=actor,
        project_id=project.id,
        ledger_entry_id=entry_id,
        currency=project.currency,
        paid_on=tranche.paid_on,
        payments=[
            {"case_code": p.case_code, "amount_minor": p.amount_minor, "usd_minor": p.usd_minor}
            for p in payments
        ],
    )
