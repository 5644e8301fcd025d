"""Assistance to victims: services recorded by advocates, and the trust fund's direct support
recorded when the ledger pays it (and cancelled when the ledger reverses it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, select

from vat import money
from vat.auth.actor import Actor
from vat.db import assign, db
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, each_field, past_date, refuse_all
from vat.plausibility import Usual
from vat.victims import feedback_counts, needs, payments, providers, service_tally, support_summary
from vat.victims.consents import ONGOING, missing_consent
from vat.victims.history import add_audited, audit_victim
from vat.victims.models import (
    Assistance,
    ConsentPurpose,
    FundingSource,
    PaymentSource,
    ServiceStatus,
    ServiceType,
    Victim,
)

STUCK_DAYS = 30


# A type's usual cost in a currency is read from this index alone (vat.plausibility's median).
USUAL_COSTS_INDEX = Index(
    "ix_vat_assistance_service_type_currency_cost",
    Assistance.service_type,
    Assistance.currency,
    Assistance.cost_minor,
)


def usual_costs(service_type: str) -> Usual:
    """What services of this type usually cost, per currency (vat.plausibility): a medical visit
    and a livelihood grant are not compared."""
    return Usual(
        f"service_{service_type}",
        _l("costs of this type of service"),
        lambda c: select(Assistance.cost_minor).where(
            Assistance.service_type == service_type,
            Assistance.currency == c,
            Assistance.cost_minor.is_not(None),
        ),
    )


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as error:
        raise InvalidField("cost", _l("Give the cost as a number, e.g. 120.50.")) from error
    if not amount.is_finite() or amount < 0:
        raise InvalidField("cost", _l("The cost cannot be negative."))
    if amount >= Decimal("1e13"):
        raise InvalidField("cost", _l("This cost is too large."))
    return amount


def _currency(value: str | None, cost_given: bool) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        if cost_given:
            raise InvalidField("currency", _l("Give the currency of the cost (e.g. USD, XAF)."))
        return None
    return money.currency("currency", code)


def _date_check(values: dict[str, Any], name: str) -> Callable[[], date | None]:
    return lambda: past_date(name, values.get(name))


def _assistance_values(
    victim: Victim, values: dict[str, Any], *, new: bool, historical: bool = False
) -> dict[str, Any]:
    """A service's checked columns. A historical one (from an old tracker) may lack the dates and
    the consent those trackers never kept: they are not recorded, not missing."""
    cleaned = each_field(
        {
            "service_type": lambda: choice("service_type", values.get("service_type"), ServiceType),
            "provider": lambda: clean_text("provider", values.get("provider"), max_length=200),
            **{name: _date_check(values, name) for name in ("referral_date", "start_date", "end_date")},
            "status": lambda: choice("status", values.get("status"), ServiceStatus, default="referred"),
            "funding_source": lambda: choice(
                "funding_source", values.get("funding_source"), FundingSource, default="unknown"
            ),
            "notes": lambda: clean_text("notes", values.get("notes"), max_length=5000),
            # The currency before the cost: the model reads the cost in the currency's minor units.
            # It is needed when a cost is typed, even one refused: both refusals in one answer.
            "currency": lambda: _currency(values.get("currency"), values.get("cost") not in (None, "")),
            "cost": lambda: _money(values.get("cost")),
        }
    )
    _directory_provider(victim, cleaned, values.get("provider_id"))
    cost = cleaned["cost"]
    cleaned["cost"] = None if cost is None else money.check_places("cost", cost, cleaned["currency"])
    referral, start, end = cleaned["referral_date"], cleaned["start_date"], cleaned["end_date"]
    errors = [] if historical else _missing_dates(cleaned["status"], start, end)
    if start and referral and start < referral:
        errors.append(InvalidField("start_date", _l("The service cannot start before the referral date.")))
    if end and start and end < start:
        errors.append(InvalidField("end_date", _l("The service cannot end before it started.")))
    completed_now = new and cleaned["status"] == ServiceStatus.COMPLETED and not historical
    if cleaned["status"] in ONGOING or completed_now:
        # Both consents at once, so that one round trip records all that is missing.
        needed = [missing_consent(victim, ConsentPurpose.SERVICES)]
        if cleaned["provider"]:
            needed.append(
                missing_consent(victim, ConsentPurpose.REFERRAL, cleaned["provider"], field="provider")
            )
        errors += [refused for refused in needed if refused is not None]
    refuse_all(errors)  # every rule the service breaks, for the importer to list
    return cleaned


def _missing_dates(status: str, start: date | None, end: date | None) -> list[InvalidField]:
    """The dates a service needs and lacks (an old tracker's historical one may lack them)."""
    missing = []
    if end and not start:
        missing.append(InvalidField("start_date", _l("Give the start date when the service has ended.")))
    if status == ServiceStatus.COMPLETED and not end:
        missing.append(InvalidField("end_date", _l("Give the end date of a completed service.")))
    if status == ServiceStatus.IN_PROGRESS and not start and not end:
        missing.append(InvalidField("start_date", _l("Give the start date of a service in progress.")))
    return missing


def new_service_columns(
    victim: Victim, values: dict[str, Any], *, historical: bool = False
) -> dict[str, Any]:
    """A new service's checked columns, written nowhere: `victim` only needs its consents."""
    return {**_assistance_values(victim, values, new=True, historical=historical), "historical": historical}


def _directory_provider(victim: Victim, cleaned: dict[str, Any], provider_id: Any) -> None:
    """A provider chosen from the directory gives the referral its name; a typed name that is in
    the directory for the victim's country is linked to it."""
    chosen = providers.chosen_provider(victim, cleaned["service_type"], provider_id)
    if chosen is not None and cleaned["provider"] and cleaned["provider"].lower() != chosen.name.lower():
        raise InvalidField("provider", _l("Choose a provider from the directory or type one, not both."))
    chosen = chosen or providers.provider_named(victim, cleaned["provider"])
    cleaned["provider_id"] = chosen.id if chosen is not None else None
    if chosen is not None:
        cleaned["provider"] = chosen.name


def record_assistance(*, actor: Actor, victim: Victim, **values: Any) -> Assistance:
    cleaned = _assistance_values(victim, values, new=True)
    with service_tally.recounting([victim.id]):
        service = add_audited(
            Assistance(victim=victim, **cleaned),
            "victim.assistance_create",
            actor=actor,
            victim=victim,
            detail=lambda row: {"assistance": row.id, "type": row.service_type, "status": row.status},
        )
    support_summary.refresh(victim.id)
    needs.follow_service(actor=actor, victim=victim, service=service)
    return service


def update_assistance(*, actor: Actor, victim: Victim, service: Assistance, **values: Any) -> Assistance:
    if service.victim_id != victim.id:
        raise DomainError(_l("That service belongs to another victim."))
    cleaned = _assistance_values(victim, values, new=False, historical=service.historical)
    # The feedback on the service is counted under its type.
    with service_tally.recounting([victim.id]), feedback_counts.recounting([victim.id]):
        changed = assign(service, cleaned)
    audit_victim(
        "victim.assistance_update",
        actor=actor,
        victim=victim,
        detail={"assistance": service.id, "fields": changed, "status": service.status},
    )
    support_summary.refresh(victim.id)
    needs.follow_service(actor=actor, victim=victim, service=service)
    return service


def record_trust_fund_support(
    *,
    actor: Actor,
    case_code: str,
    amount: Decimal,
    currency: str,
    usd_minor: int,
    paid_on: date,
    ledger_entry_id: int,
    route: str | None = None,
    basis: str | None = None,
) -> Assistance:
    """Called by the ledger when the trust fund pays a victim directly: one assistance row linked
    to the ledger entry, and the payment that reached the victim with its route (through an
    implementing partner or the mission) and approved basis. Calling again for the same entry
    returns the same row."""
    existing = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == ledger_entry_id))
    if existing is not None:
        return existing
    victim = payments.victim_by_case_code(actor, case_code)
    if not isinstance(amount, Decimal) or amount <= 0:
        raise InvalidField("cost", _l("Direct support needs a positive Decimal amount."))
    service = record_assistance(
        actor=actor,
        victim=victim,
        service_type=ServiceType.MATERIAL,
        provider=None,
        referral_date=paid_on,
        start_date=paid_on,
        end_date=paid_on,
        status=ServiceStatus.COMPLETED,
        cost=amount,
        currency=currency,
        funding_source=FundingSource.DIRECT_TRUST_FUND,
    )
    with service_tally.recounting([victim.id]):  # paid by the ledger: no referral
        service.ledger_entry_id = ledger_entry_id
    payments.record_payment(
        actor=actor,
        victim=victim,
        source=PaymentSource.DIRECT,
        ledger_entry_id=ledger_entry_id,
        currency=currency,
        amount_minor=money.to_minor(amount, currency),
        usd_minor=usd_minor,
        paid_on=paid_on,
        route=route,
        basis=basis,
    )
    return service


def cancel_trust_fund_support(*, actor: Actor, ledger_entry_id: int) -> Assistance | None:
    """Called by the ledger when a direct-support payment is reversed: the assistance it recorded
    is cancelled (kept, with its ledger entry, for the record), so the victim no longer counts as
    supported by it."""
    payments.reverse_payments(actor=actor, ledger_entry_id=ledger_entry_id)
    service = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == ledger_entry_id))
    if service is None or service.status == ServiceStatus.CANCELLED:
        return service
    with service_tally.recounting([service.victim_id]):
        service.status = ServiceStatus.CANCELLED
    audit_victim(
        "victim.assistance_update",
        actor=actor,
        victim=service.victim,
        detail={"assistance": service.id, "fields": ["status"], "status": service.status, "reversed": True},
    )
    support_summary.refresh(service.victim_id)
    return service
