"""The victims service: the only code that reads or writes victim identities (it decrypts and
audits), enforces consents, and keeps every query inside the actor's scope."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from vat import audit
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, ClockRule, Step, VictimAllegation
from vat.auth import services as auth
from vat.auth.models import BreakGlass, Role, User
from vat.auth.policy import in_scope, scope_filter
from vat.crypto import blind_index
from vat.db import db, utcnow
from vat.errors import DomainError, NotAllowed
from vat.inputs import InvalidField, choice, clean_text, country, mission, past_date, today
from vat.kept import KeptValues, list_figure
from vat.paging import Page
from vat.reports.exports import xlsx_bytes
from vat.victims import labels
from vat.victims.labels import vat_label
from vat.victims.models import (
    AgeGroup,
    Assistance,
    CaseCounter,
    Channel,
    Child,
    Communication,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    Disclosure,
    FundingSource,
    RecipientKind,
    ServiceStatus,
    ServiceType,
    Sex,
    Victim,
    VictimNameKey,
    VictimStatus,
    VictimTask,
)

NAME_PURPOSE = "vat_victim.name"
IDENTITY_FIELDS = ("name", "aliases", "date_of_birth", "contact", "location", "notes")
TEXT_LIMITS = {"name": 200, "aliases": 500, "contact": 500, "location": 500, "notes": 5000}
# Services that are happening (or about to) for the victim: these need the victim's consent.
ONGOING = (ServiceStatus.REFERRED, ServiceStatus.IN_PROGRESS)
DELIVERED = (ServiceStatus.IN_PROGRESS, ServiceStatus.COMPLETED)
STUCK_DAYS = 30
INFORM_OUTCOME = "inform_outcome"
DEFAULT_PREFIXES = {"CAF": "CAR", "COD": "DRC"}


def no_update_days() -> int:
    return int(current_app.config["VAT_NO_UPDATE_DAYS"])


# --- scope: every victim query starts here ---------------------------------------------------


def in_scope_condition(user: Any) -> ColumnElement[bool]:
    return scope_filter(user, Victim.country_code, Victim.mission, record_type="victim", id_column=Victim.id)


def visible_victims(user: Any) -> Select[tuple[Victim]]:
    return select(Victim).where(in_scope_condition(user))


def get_victim(user: Any, victim_id: int) -> Victim | None:
    return db.session.scalar(visible_victims(user).where(Victim.id == victim_id))


def find_by_case_code(user: Any, case_code: str) -> Victim | None:
    return db.session.scalar(visible_victims(user).where(Victim.case_code == case_code.strip().upper()))


# --- search and lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class VictimFilters:
    case_code: str = ""
    name: str = ""
    country_code: str = ""
    status: str = ""
    advocate_id: int | None = None
    minor: bool = False
    no_assistance: bool = False
    no_update: bool = False


def received_assistance() -> ColumnElement[bool]:
    return exists().where(Assistance.victim_id == Victim.id, Assistance.status.in_(list(DELIVERED)))


def without_update_since(cutoff: date) -> ColumnElement[bool]:
    return and_(
        Victim.status == VictimStatus.ACTIVE,
        func.coalesce(Victim.last_update_on, Victim.registered_on) <= cutoff,
    )


# The list's order, newest first: a victim's place is its (registered_on, id), compared as a pair.
LIST_KEY = (Victim.registered_on, Victim.id)


def victim_rows(user: Any, filters: VictimFilters) -> Select[Any]:
    """The list query: case codes and categories, no identity column, one statement per page."""
    query = (
        select(
            Victim.id,
            Victim.case_code,
            Victim.country_code,
            Victim.mission,
            Victim.status,
            Victim.sex,
            Victim.age_group,
            Victim.registered_on,
            Victim.last_update_on,
            # A subquery, not a join: counting and skipping then read the victims' index alone.
            select(User.username).where(User.id == Victim.advocate_id).scalar_subquery().label("advocate"),
            received_assistance().label("assisted"),
        )
        .where(in_scope_condition(user))
        .order_by(*(column.desc() for column in LIST_KEY))
    )
    if filters.case_code.strip():
        query = query.where(Victim.case_code == filters.case_code.strip().upper())
    if filters.name.strip():
        digest = blind_index(filters.name, NAME_PURPOSE)
        query = query.where(
            exists().where(VictimNameKey.victim_id == Victim.id, VictimNameKey.digest == digest)
        )
    if filters.country_code:
        query = query.where(Victim.country_code == filters.country_code)
    if filters.status:
        query = query.where(Victim.status == filters.status)
    if filters.advocate_id:
        query = query.where(Victim.advocate_id == filters.advocate_id)
    if filters.minor:
        query = query.where(Victim.age_group == AgeGroup.MINOR)
    if filters.no_assistance:
        query = query.where(not_(received_assistance()))
    if filters.no_update:
        query = query.where(without_update_since(today() - timedelta(days=no_update_days())))
    return query


_kept_totals = KeptValues()
_kept_page_starts = KeptValues()

# Pages up to this many rows in are reached by skipping rows (OFFSET); deeper ones seek from where
# the page starts, kept with the list's total: skipping 40,000 rows cost 200 ms a page under load.
DEEP_OFFSET = 1_000


def paginate_rows(query: Select[Any], *, page: int, per_page: int, kept_as: Hashable | None = None) -> Page:
    """One page of `query` (ordered by LIST_KEY, newest first). With `kept_as` (the list and who
    views it), the total, and for deep pages where each page starts, are worked out at most once per
    `VAT_LIST_COUNT_SECONDS` for that key: at 100,000 victims they are the page's main cost. The
    rows are always read."""
    # Count and skip on victim ids alone (an index covers them); the page's other columns and
    # subqueries are computed for its own rows only, not for every row skipped over.
    ids = query.with_only_columns(Victim.id)
    skip = (page - 1) * per_page
    if kept_as is not None and skip > DEEP_OFFSET and _keeps_list_figures():
        window, more = _seek_page(ids, page, per_page, kept_as)
    else:
        window = db.session.scalars(ids.limit(per_page + 1).offset(skip)).all()
        more = len(window) > per_page
        window = window[:per_page]
    rows = db.session.execute(query.where(Victim.id.in_(window))).all() if window else []

    def count() -> int:
        return db.session.scalar(select(func.count()).select_from(ids.order_by(None).subquery())) or 0

    total = max(list_figure(_kept_totals, kept_as, count), skip + len(rows))
    return Page(items=list(rows), page=page, per_page=per_page, total=total, more=more)


def _keeps_list_figures() -> bool:
    return float(current_app.config["VAT_LIST_COUNT_SECONDS"]) > 0


def _seek_page(ids: Select[Any], page: int, per_page: int, kept_as: Hashable) -> tuple[list[int], bool]:
    """The ids from where page `page` starts to where the next one starts, and whether it exists.
    The starts may be a few seconds old: a page then holds the rows now between them — a row or
    two more or fewer than `per_page` — so no row is skipped over between two pages."""
    starts = list_figure(_kept_page_starts, (kept_as, per_page), lambda: _page_starts(ids, per_page))
    if page > len(starts):
        return [], False
    key = tuple_(*LIST_KEY)
    window = ids.where(key <= tuple_(*starts[page - 1]))
    if page < len(starts):
        window = window.where(key > tuple_(*starts[page]))
    return list(db.session.scalars(window)), page < len(starts)


def _page_starts(ids: Select[Any], per_page: int) -> list[tuple[Any, ...]]:
    """The LIST_KEY of every page's first row: one pass over the matching rows' index."""
    number = func.row_number().over(order_by=[column.desc() for column in LIST_KEY])
    ranked = ids.with_only_columns(*LIST_KEY, number.label("number")).order_by(None).subquery()
    return [
        tuple(start)
        for start in db.session.execute(
            select(*(ranked.c[column.key] for column in LIST_KEY))
            .where((ranked.c.number - 1) % per_page == 0)
            .order_by(ranked.c.number)
        )
    ]


NAME_RESULTS = 100


def find_by_name(*, actor: Any, name: str) -> Page:
    """Victims in scope whose name or other name is exactly this one (normalised); audited,
    because a match tells the searcher that this person is a victim. The name is not recorded."""
    page = paginate_rows(victim_rows(actor, VictimFilters(name=name)), page=1, per_page=NAME_RESULTS)
    audit.record(
        "victim.search_by_name",
        actor=actor,
        object_type="victim",
        detail={"matches": [row.case_code for row in page.items]},
    )
    return page


def advocates_for(user: Any) -> list[User]:
    """Advocates who may be put in charge of victims in the user's countries."""
    countries = {s.country_code for s in user.scopes}
    users = db.session.scalars(
        select(User)
        .where(User.role.in_([Role.ADVOCATE, Role.SENIOR_ADVOCATE]), User.active.is_(True))
        .order_by(User.username)
    ).all()
    return [u for u in users if countries & {s.country_code for s in u.scopes}]


# --- case codes ------------------------------------------------------------------------------

PREFIX_PATTERN = re.compile(r"^[A-Z0-9]{2,10}$")
CASE_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9/-]{2,39}$")


def default_prefix(country_code: str) -> str:
    return DEFAULT_PREFIXES.get(country_code, country_code)


def next_case_code(prefix: str, year: int) -> str:
    prefix = prefix.strip().upper()
    if not PREFIX_PATTERN.match(prefix):
        raise InvalidField("prefix", _l("Use 2 to 10 capital letters or digits for the prefix."))
    counter = db.session.get(CaseCounter, (prefix, year), with_for_update=True)
    if counter is None:
        try:  # the first code of a prefix and year: another request may be creating it too
            with db.session.begin_nested():
                db.session.add(CaseCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass
        counter = db.session.get(CaseCounter, (prefix, year), with_for_update=True, populate_existing=True)
        if counter is None:
            raise DomainError(_l("The case-code counter could not be read; try again."))
    while True:
        counter.last += 1
        code = f"{prefix}-{year}-{counter.last:04d}"
        if not db.session.scalar(select(Victim.id).where(Victim.case_code == code)):
            return code


# --- victims ---------------------------------------------------------------------------------


def _identity(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: clean_text(k, values.get(k), max_length=n) for k, n in TEXT_LIMITS.items()}
    born = past_date("date_of_birth", values.get("date_of_birth"))
    cleaned["date_of_birth"] = born.isoformat() if born else None
    return cleaned


def _categories(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {
        "country_code": country("country_code", values.get("country_code")),
        "mission": mission("mission", values.get("mission")),
        "sex": choice("sex", values.get("sex"), Sex, default="unknown"),
        "age_group": choice("age_group", values.get("age_group"), AgeGroup, default="unknown"),
    }
    if not in_scope(actor, cleaned["country_code"], cleaned["mission"]):
        raise InvalidField("country_code", _l("This country or mission is outside your scope."))
    advocate_id = values.get("advocate_id")
    if advocate_id:
        advocate = db.session.get(User, int(advocate_id))
        if (
            advocate is None
            or not advocate.active
            or not Role(advocate.role).sees_identities
            or not in_scope(advocate, cleaned["country_code"], cleaned["mission"])
        ):
            raise InvalidField("advocate_id", _l("Choose an active advocate who works on this country."))
    cleaned["advocate_id"] = int(advocate_id) if advocate_id else None
    return cleaned


def _index_names(victim: Victim, name: str | None, aliases: str | None, *, new: bool = False) -> None:
    if not new:
        db.session.execute(VictimNameKey.__table__.delete().where(VictimNameKey.victim_id == victim.id))
    names = [name or ""] + re.split(r"[;\n]", aliases or "")
    digests = {blind_index(n, NAME_PURPOSE) for n in names if n.strip()}
    db.session.add_all(VictimNameKey(victim_id=victim.id, digest=d) for d in sorted(digests))


def register_victim(
    *,
    actor: Any,
    prefix: str | None = None,
    case_code: str | None = None,
    registered_on: date | None = None,
    **values: Any,
) -> Victim:
    """Register a victim. `case_code` is for imports of existing records; otherwise one is made."""
    categories = _categories(actor, values)
    identity = _identity(values)
    registered_on = past_date("registered_on", registered_on) or today()
    if case_code:
        case_code = case_code.strip().upper()
        if not CASE_CODE_PATTERN.match(case_code):
            raise InvalidField("case_code", _l("Case codes use capital letters, digits and dashes."))
        if db.session.scalar(select(Victim.id).where(Victim.case_code == case_code)):
            raise InvalidField("case_code", _l("This case code is taken."))
    else:
        case_code = next_case_code(prefix or default_prefix(categories["country_code"]), registered_on.year)
    victim = Victim(
        case_code=case_code,
        registered_on=registered_on,
        status=VictimStatus.ACTIVE,
        advocate_id=categories.pop("advocate_id") or (actor.id if _is_advocate(actor) else None),
        **categories,
        **identity,
    )
    db.session.add(victim)
    db.session.flush()
    _index_names(victim, identity["name"], identity["aliases"], new=True)
    audit.record(
        "victim.create",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"identity_fields": sorted(k for k, v in identity.items() if v)},
    )
    return victim


def _is_advocate(user: Any) -> bool:
    return user is not None and Role(user.role).sees_identities


def update_victim(*, actor: Any, victim: Victim, **values: Any) -> Victim:
    categories = _categories(actor, values)
    identity = _identity(values)
    changed = [k for k, v in {**categories, **identity}.items() if getattr(victim, k) != v]
    for key, value in {**categories, **identity}.items():
        setattr(victim, key, value)
    if "name" in changed or "aliases" in changed:
        _index_names(victim, identity["name"], identity["aliases"])
    db.session.flush()
    audit.record(
        "victim.update",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"fields": sorted(changed)},
    )
    return victim


def set_status(*, actor: Any, victim: Victim, status: str) -> Victim:
    status = choice("status", status, VictimStatus)
    if status == victim.status:
        raise DomainError(_l("The case is already %(status)s.", status=vat_label(status)))
    before, victim.status = victim.status, status
    db.session.flush()
    audit.record(
        "victim.status",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"from": before, "to": status},
    )
    return victim


def read_identity(*, actor: Any, victim: Victim) -> dict[str, str | None]:
    """Decrypt the victim's identity for the actor, and record that they saw it."""
    audit.record(
        "victim.view_identity",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
    )
    return {name: getattr(victim, name) for name in IDENTITY_FIELDS}


def record_read(*, actor: Any, victim: Victim, what: str, record_id: int) -> None:
    """Record that the actor opened an encrypted note of this victim's (a service or a child)."""
    audit.record(
        "victim.view_record",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={what: record_id},
    )


# --- consents --------------------------------------------------------------------------------


def active_consent(victim: Victim, purpose: str, recipient: str | None = None) -> Consent | None:
    """The consent in force for this purpose (and, if it names one, this recipient)."""
    for consent in reversed(victim.consents):
        if consent.purpose != purpose or not consent.active:
            continue
        if (
            consent.recipient
            and recipient is not None
            and consent.recipient.casefold() != recipient.casefold()
        ):
            continue
        return consent
    return None


def require_consent(
    victim: Victim, purpose: str, recipient: str | None = None, *, field: str = "status"
) -> None:
    if active_consent(victim, purpose, recipient) is None:
        if recipient and purpose != ConsentPurpose.SERVICES:
            message = _l(
                "Refused: the victim has not given (or has withdrawn) consent to %(purpose)s for "
                "%(recipient)s. Record the consent first.",
                purpose=vat_label(purpose),
                recipient=recipient,
            )
        else:
            message = _l(
                "Refused: the victim has not given (or has withdrawn) consent to %(purpose)s. "
                "Record the consent first.",
                purpose=vat_label(purpose),
            )
        raise InvalidField(field, message)


def record_consent(
    *,
    actor: Any,
    victim: Victim,
    purpose: str,
    given_on: date | None,
    method: str,
    version: str,
    recipient: str | None = None,
) -> Consent:
    purpose = choice("purpose", purpose, ConsentPurpose)
    given = past_date("given_on", given_on, required=True)
    method = choice("method", method, ConsentMethod)
    version_text = clean_text("version", version, max_length=20, required=True)
    named = clean_text("recipient", recipient, max_length=200)
    for previous in victim.consents:
        if previous.purpose == purpose and previous.active and previous.recipient == named:
            previous.superseded = True
    consent = Consent(
        victim=victim,
        purpose=purpose,
        given_on=given,
        method=method,
        version=version_text,
        recipient=named,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(
        "victim.consent_given",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"purpose": purpose, "version": consent.version, "consent": consent.id},
    )
    return consent


@dataclass
class Withdrawal:
    consent: Consent
    cancelled_services: list[Assistance] = field(default_factory=list)
    cancelled_disclosures: list[Disclosure] = field(default_factory=list)


def withdraw_consent(
    *, actor: Any, victim: Victim, consent: Consent, withdrawn_on: date | None = None
) -> Withdrawal:
    """Withdraw a consent and cancel what depended on it (pending referrals, shares)."""
    if consent.victim_id != victim.id:
        raise DomainError(_l("That consent belongs to another victim."))
    if not consent.active:
        raise DomainError(_l("This consent is no longer in force."))
    when = past_date("withdrawn_on", withdrawn_on) or today()
    if when < consent.given_on:
        raise InvalidField("withdrawn_on", _l("A consent cannot be withdrawn before it was given."))
    consent.withdrawn_on = when
    result = Withdrawal(consent)
    for service in victim.services:
        if service.status not in ONGOING:
            continue
        needs = [(ConsentPurpose.SERVICES, None)]
        if service.provider:
            needs.append((ConsentPurpose.REFERRAL, service.provider))
        if any(active_consent(victim, p, r) is None for p, r in needs):
            service.status = ServiceStatus.CANCELLED
            result.cancelled_services.append(service)
    for disclosure in victim.disclosures:
        if (
            disclosure.cancelled_on is None
            and active_consent(victim, DISCLOSURE_CONSENT[disclosure.recipient_kind], disclosure.recipient)
            is None
        ):
            disclosure.cancelled_on = when
            result.cancelled_disclosures.append(disclosure)
    db.session.flush()
    audit.record(
        "victim.consent_withdrawn",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={
            "purpose": consent.purpose,
            "consent": consent.id,
            "cancelled_services": [s.id for s in result.cancelled_services],
            "cancelled_disclosures": [d.id for d in result.cancelled_disclosures],
        },
    )
    return result


DISCLOSURE_CONSENT = {
    RecipientKind.MEMBER_STATE: ConsentPurpose.SHARE_MEMBER_STATE,
    RecipientKind.PROVIDER: ConsentPurpose.REFERRAL,
}


def record_disclosure(
    *, actor: Any, victim: Victim, recipient_kind: str, recipient: str, purpose: str, shared_on: date | None
) -> Disclosure:
    kind = choice("recipient_kind", recipient_kind, RecipientKind)
    name = clean_text("recipient", recipient, max_length=200, required=True)
    require_consent(victim, DISCLOSURE_CONSENT[kind], name, field="recipient")
    disclosure = Disclosure(
        victim=victim,
        recipient_kind=kind,
        recipient=name,
        purpose=clean_text("purpose", purpose, max_length=200, required=True),
        shared_on=past_date("shared_on", shared_on) or today(),
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(disclosure)
    db.session.flush()
    audit.record(
        "victim.disclosure",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"recipient_kind": kind, "disclosure": disclosure.id},
    )
    return disclosure


def export_disclosure(*, actor: Any, victim: Victim, disclosure: Disclosure) -> bytes:
    """The victim's file for a recorded share, as a workbook: senior advocates only, only while
    the share stands and its consent is in force, and audited (the export holds the identity)."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise NotAllowed(_l("Only a senior advocate may export a victim's identity."))
    if disclosure.victim_id != victim.id:
        raise DomainError(_l("That share belongs to another victim."))
    if disclosure.cancelled_on is not None:
        raise DomainError(_l("This share was cancelled when its consent was withdrawn: nothing to export."))
    require_consent(
        victim, DISCLOSURE_CONSENT[disclosure.recipient_kind], disclosure.recipient, field="recipient"
    )
    identity = {name: getattr(victim, name) for name in IDENTITY_FIELDS}
    facts = [
        ("case code", victim.case_code),
        ("country", victim.country_code),
        ("mission", victim.mission),
        ("sex", victim.sex),
        ("age group at the incident", victim.age_group),
        *((name.replace("_", " "), value) for name, value in identity.items()),
        ("shared with", f"{disclosure.recipient} ({disclosure.recipient_kind.replace('_', ' ')})"),
        ("purpose", disclosure.purpose),
        ("shared on", disclosure.shared_on),
    ]
    services_rows = [
        (s.service_type, s.provider, s.referral_date, s.start_date, s.end_date, s.status, s.cost, s.currency)
        for s in victim.services
    ]
    allegation_rows = [
        (a.reference, a.country_code, a.mission, a.type, a.received_on, a.outcome) for a in victim.allegations
    ]
    workbook = xlsx_bytes(
        [
            ("victim", ["field", "value"], facts),
            (
                "assistance",
                ["service", "provider", "referred", "start", "end", "status", "cost", "currency"],
                services_rows,
            ),
            (
                "allegations",
                ["reference", "country", "mission", "type", "received", "outcome"],
                allegation_rows,
            ),
        ]
    )
    audit.record(
        "victim.export_identity",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"disclosure": disclosure.id, "recipient_kind": disclosure.recipient_kind},
    )
    return workbook


# --- assistance ------------------------------------------------------------------------------


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as error:
        raise InvalidField("cost", _l("Give the cost as a number, e.g. 120.50.")) from error
    if not amount.is_finite() or amount < 0:
        raise InvalidField("cost", _l("The cost cannot be negative."))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidField("cost", _l("Give the cost to the cent at most (two decimals)."))
    if amount >= Decimal("1e13"):
        raise InvalidField("cost", _l("This cost is too large."))
    return amount


def _currency(value: str | None, cost: Decimal | None) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        if cost is not None:
            raise InvalidField("currency", _l("Give the currency of the cost (e.g. USD, XAF)."))
        return None
    if pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidField("currency", _l("Use an ISO 4217 currency code (e.g. USD, XAF, CDF, HTG)."))
    return code


def _assistance_values(victim: Victim, values: dict[str, Any], *, new: bool) -> dict[str, Any]:
    cleaned: dict[str, Any] = {
        "service_type": choice("service_type", values.get("service_type"), ServiceType),
        "provider": clean_text("provider", values.get("provider"), max_length=200),
        "referral_date": past_date("referral_date", values.get("referral_date")),
        "start_date": past_date("start_date", values.get("start_date")),
        "end_date": past_date("end_date", values.get("end_date")),
        "status": choice("status", values.get("status"), ServiceStatus, default="referred"),
        "funding_source": choice(
            "funding_source", values.get("funding_source"), FundingSource, default="unknown"
        ),
        "notes": clean_text("notes", values.get("notes"), max_length=5000),
    }
    cleaned["cost"] = _money(values.get("cost"))
    cleaned["currency"] = _currency(values.get("currency"), cleaned["cost"])
    referral, start, end = cleaned["referral_date"], cleaned["start_date"], cleaned["end_date"]
    if start and referral and start < referral:
        raise InvalidField("start_date", _l("The service cannot start before the referral date."))
    if end and not start:
        raise InvalidField("start_date", _l("Give the start date when the service has ended."))
    if end and start and end < start:
        raise InvalidField("end_date", _l("The service cannot end before it started."))
    if cleaned["status"] == ServiceStatus.COMPLETED and not end:
        raise InvalidField("end_date", _l("Give the end date of a completed service."))
    if cleaned["status"] == ServiceStatus.IN_PROGRESS and not start:
        raise InvalidField("start_date", _l("Give the start date of a service in progress."))
    needs_consent = cleaned["status"] in ONGOING or (new and cleaned["status"] == ServiceStatus.COMPLETED)
    if needs_consent:
        require_consent(victim, ConsentPurpose.SERVICES)
        if cleaned["provider"]:
            require_consent(victim, ConsentPurpose.REFERRAL, cleaned["provider"], field="provider")
    return cleaned


def record_assistance(*, actor: Any, victim: Victim, **values: Any) -> Assistance:
    cleaned = _assistance_values(victim, values, new=True)
    service = Assistance(victim=victim, **cleaned)
    db.session.add(service)
    db.session.flush()
    audit.record(
        "victim.assistance_create",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"assistance": service.id, "type": service.service_type, "status": service.status},
    )
    return service


def update_assistance(*, actor: Any, victim: Victim, service: Assistance, **values: Any) -> Assistance:
    if service.victim_id != victim.id:
        raise DomainError(_l("That service belongs to another victim."))
    cleaned = _assistance_values(victim, values, new=False)
    changed = sorted(k for k, v in cleaned.items() if getattr(service, k) != v)
    for key, value in cleaned.items():
        setattr(service, key, value)
    db.session.flush()
    audit.record(
        "victim.assistance_update",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"assistance": service.id, "fields": changed, "status": service.status},
    )
    return service


def record_trust_fund_support(
    *, actor: Any, case_code: str, amount: Decimal, currency: str, paid_on: date, ledger_entry_id: int
) -> Assistance:
    """Called by the ledger when the trust fund pays a victim directly: one assistance row linked
    to the ledger entry. Calling again for the same entry returns the same row."""
    existing = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == ledger_entry_id))
    if existing is not None:
        return existing
    victim = db.session.scalar(
        select(Victim).where(Victim.case_code == case_code.strip().upper(), in_scope_condition(actor))
    )
    if victim is None:
        raise DomainError(_l("No victim has case code %(code)s.", code=case_code.strip().upper()))
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
    service.ledger_entry_id = ledger_entry_id
    db.session.flush()
    return service


def cancel_trust_fund_support(*, actor: Any, ledger_entry_id: int) -> Assistance | None:
    """Called by the ledger when a direct-support payment is reversed: the assistance it recorded
    is cancelled (kept, with its ledger entry, for the record), so the victim no longer counts as
    supported by it."""
    service = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == ledger_entry_id))
    if service is None or service.status == ServiceStatus.CANCELLED:
        return service
    service.status = ServiceStatus.CANCELLED
    db.session.flush()
    audit.record(
        "victim.assistance_update",
        actor=actor,
        object_type="victim",
        object_id=service.victim.case_code,
        country_code=service.victim.country_code,
        detail={"assistance": service.id, "fields": ["status"], "status": service.status, "reversed": True},
    )
    return service


# --- children --------------------------------------------------------------------------------


def _child_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "birth_date": past_date("birth_date", values.get("birth_date")),
        "sex": choice("sex", values.get("sex"), Sex, default="unknown"),
        "notes": clean_text("notes", values.get("notes"), max_length=5000),
    }


def add_child(*, actor: Any, victim: Victim, **values: Any) -> Child:
    child = Child(victim=victim, **_child_values(values))
    db.session.add(child)
    db.session.flush()
    audit.record(
        "victim.child_create",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"child": child.id},
    )
    return child


def update_child(*, actor: Any, victim: Victim, child: Child, **values: Any) -> Child:
    if child.victim_id != victim.id:
        raise DomainError(_l("That child is recorded for another victim."))
    cleaned = _child_values(values)
    changed = sorted(k for k, v in cleaned.items() if getattr(child, k) != v)
    for key, value in cleaned.items():
        setattr(child, key, value)
    db.session.flush()
    audit.record(
        "victim.child_update",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"child": child.id, "fields": changed},
    )
    return child


# --- communications and the right to be informed --------------------------------------------


def log_communication(
    *,
    actor: Any,
    victim: Victim,
    occurred_on: date | None,
    channel: str,
    summary: str | None,
    case_update_given: bool,
    language: str | None = None,
    by_whom: str | None = None,
    next_update_due: date | None = None,
    closes_task_ids: Iterable[int] = (),
) -> Communication:
    occurred = past_date("occurred_on", occurred_on, required=True) or today()
    require_consent(victim, ConsentPurpose.CONTACT, field="channel")
    if next_update_due is not None and next_update_due < occurred:
        raise InvalidField("next_update_due", _l("The next update cannot be due before this contact."))
    open_tasks = {t.id: t for t in victim.tasks if t.closed_at is None}
    closing = [int(i) for i in closes_task_ids]
    if any(i not in open_tasks for i in closing):
        raise InvalidField("closes_tasks", _l("Choose only this victim's open tasks."))
    if closing and not case_update_given:
        raise InvalidField(
            "case_update_given", _l("Informing the victim of an outcome is a case update: tick it.")
        )
    communication = Communication(
        victim=victim,
        occurred_on=occurred,
        channel=choice("channel", channel, Channel),
        language=clean_text("language", language, max_length=40),
        by_whom=clean_text("by_whom", by_whom, max_length=120) or getattr(actor, "username", "system"),
        recorded_by_id=getattr(actor, "id", None),
        case_update_given=bool(case_update_given),
        next_update_due=next_update_due,
        summary=clean_text("summary", summary, max_length=5000),
    )
    db.session.add(communication)
    db.session.flush()
    now = utcnow()
    for task_id in closing:
        open_tasks[task_id].closed_at = now
        open_tasks[task_id].closed_by_communication_id = communication.id
    if case_update_given and (victim.last_update_on is None or occurred >= victim.last_update_on):
        victim.last_update_on = occurred
    if next_update_due is not None or case_update_given:
        victim.next_update_due = next_update_due
    db.session.flush()
    audit.record(
        "victim.communication_create",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={
            "communication": communication.id,
            "update_given": bool(case_update_given),
            "closed_tasks": closing,
        },
    )
    return communication


def open_outcome_tasks(
    *, actor: Any, allegation: Allegation, victims: Iterable[Victim] | None = None
) -> list[VictimTask]:
    """An outcome was recorded: every linked victim must be told. One open task per victim and
    allegation; a changed outcome updates the open task rather than adding another."""
    targets = list(victims) if victims is not None else [link.victim for link in allegation.links]
    created = []
    for victim in targets:
        task = next(
            (t for t in victim.tasks if t.allegation_id == allegation.id and t.closed_at is None), None
        )
        if task is not None:
            task.outcome = allegation.outcome
            continue
        task = VictimTask(
            victim=victim, allegation=allegation, kind=INFORM_OUTCOME, outcome=allegation.outcome
        )
        db.session.add(task)
        created.append(task)
    db.session.flush()
    for task in created:
        audit.record(
            "victim.task_open",
            actor=actor,
            object_type="victim",
            object_id=task.victim.case_code,
            country_code=task.victim.country_code,
            detail={"task": task.id, "kind": INFORM_OUTCOME, "allegation": allegation.reference},
        )
    return created


# --- break the glass -------------------------------------------------------------------------


def break_glass_victim(*, actor: Any, case_code: str, reason: str) -> Victim:
    """A senior advocate opens one victim outside their scope, with a stated reason."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise DomainError(_l("Only a senior advocate may break the glass."))
    victim = db.session.scalar(select(Victim).where(Victim.case_code == case_code.strip().upper()))
    if victim is None:
        raise InvalidField("case_code", _l("No victim has this case code."))
    auth.break_glass(
        actor=actor,
        record_type="victim",
        record_id=victim.id,
        reason=reason,
        country_code=victim.country_code,
    )
    return victim


def glass_breaks_for(user: Any, *, days: int = 30) -> list[tuple[BreakGlass, str]]:
    """Recent break-glass openings of victims this user is in charge of (shown on their dashboard)."""
    rows = db.session.execute(
        select(BreakGlass, Victim.case_code)
        .join(Victim, and_(BreakGlass.record_type == "victim", BreakGlass.record_id == Victim.id))
        .where(Victim.advocate_id == user.id, BreakGlass.created_at >= utcnow() - timedelta(days=days))
        .options(selectinload(BreakGlass.user))
        .order_by(BreakGlass.created_at.desc())
    ).all()
    return [(grant, code) for grant, code in rows]


# --- the victim page: timeline and open items ------------------------------------------------


@dataclass(frozen=True)
class Event:
    on: date
    kind: str
    title: str
    detail: str = ""


def load_victim_file(victim: Victim) -> None:
    """Load everything the victim page shows in a fixed number of queries."""
    db.session.execute(
        select(Victim)
        .where(Victim.id == victim.id)
        .options(
            selectinload(Victim.consents),
            selectinload(Victim.services).undefer(Assistance.notes),
            selectinload(Victim.children).undefer(Child.notes),
            selectinload(Victim.communications).undefer(Communication.summary),
            selectinload(Victim.tasks).selectinload(VictimTask.allegation),
            selectinload(Victim.advocate),
            selectinload(Victim.disclosures),
            selectinload(Victim.allegation_links).selectinload(VictimAllegation.allegation),
        )
        .execution_options(populate_existing=True)  # undefer notes of rows already in the session
    ).all()


def timeline(victim: Victim) -> list[Event]:
    """Everything that happened to and for the victim, newest first, in the reader's language."""
    events = [Event(victim.registered_on, "case", _("Case registered"), victim.case_code)]
    for link in victim.allegation_links:
        allegation = link.allegation
        for step in Step:
            when = allegation.step_date(step)
            if when:
                title = _(
                    "Allegation %(reference)s: %(step)s", reference=allegation.reference, step=_step(step)
                )
                events.append(Event(when, "allegation", title))
    for service in victim.services:
        name = vat_label(service.service_type)
        provider = f" ({service.provider})" if service.provider else ""
        if service.referral_date:
            title = _("Referred for %(service)s help", service=name) + provider
            events.append(Event(service.referral_date, "service", title))
        if service.start_date:
            title = _("%(service)s help started", service=name.capitalize()) + provider
            events.append(Event(service.start_date, "service", title))
        if service.end_date:
            title = _("%(service)s help ended", service=name.capitalize()) + provider
            events.append(Event(service.end_date, "service", title, vat_label(service.status)))
    for communication in victim.communications:
        channel = vat_label(communication.channel)
        title = (
            _("Contact by %(channel)s — case update given", channel=channel)
            if communication.case_update_given
            else _("Contact by %(channel)s", channel=channel)
        )
        events.append(Event(communication.occurred_on, "communication", title, communication.summary or ""))
    for consent in victim.consents:
        purpose = vat_label(consent.purpose)
        title = _(
            "Consent to %(purpose)s given (%(method)s)", purpose=purpose, method=vat_label(consent.method)
        )
        events.append(Event(consent.given_on, "consent", title))
        if consent.withdrawn_on:
            events.append(
                Event(consent.withdrawn_on, "consent", _("Consent to %(purpose)s withdrawn", purpose=purpose))
            )
    for child in victim.children:
        if child.birth_date:
            events.append(
                Event(child.birth_date, "child", _("Child born (%(sex)s)", sex=vat_label(child.sex)))
            )
    for disclosure in victim.disclosures:
        title = _(
            "Shared with %(kind)s %(recipient)s",
            kind=vat_label(disclosure.recipient_kind),
            recipient=disclosure.recipient,
        )
        events.append(Event(disclosure.shared_on, "disclosure", title))
    # Newest first; within one day, in the order things happen (registered, consented, referred, told).
    order = {"case": 0, "consent": 1, "allegation": 2, "disclosure": 3, "service": 4, "child": 5}
    ranked = sorted(enumerate(events), key=lambda p: (p[1].on, order.get(p[1].kind, 6), p[0]), reverse=True)
    return [event for _index, event in ranked]


def _step(step: Step) -> str:
    return labels.step_label(step).lower()


@dataclass(frozen=True)
class OpenItem:
    kind: str
    text: str


def open_items(victim: Victim, rule_list: list[ClockRule], on: date | None = None) -> list[OpenItem]:
    """What is owed to or pending for this victim (the victim page lists them first)."""
    on = on or today()
    items: list[OpenItem] = []
    for link in victim.allegation_links:
        for state in allegations.overdue_steps(link.allegation, rule_list, on):
            text = _(
                "Allegation %(reference)s: %(step)s %(state)s",
                reference=link.allegation.reference,
                step=_step(state.step),
                state=labels.step_text(state),
            )
            items.append(OpenItem("overdue_step", text))
    for service in victim.services:
        if _stuck(service, on) and service.referral_date is not None:
            text = _(
                "%(service)s referral not started after %(days)s days",
                service=vat_label(service.service_type).capitalize(),
                days=(on - service.referral_date).days,
            )
            items.append(OpenItem("stuck_service", text))
    for task in victim.tasks:
        if task.closed_at is None:
            text = _(
                "Inform the victim of the outcome of allegation %(reference)s (%(outcome)s)",
                reference=task.allegation.reference if task.allegation else "—",
                outcome=vat_label(task.outcome),
            )
            items.append(OpenItem("task", text))
    if victim.status == VictimStatus.ACTIVE:
        since = victim.last_update_on or victim.registered_on
        days = (on - since).days
        if days >= no_update_days():
            text = (
                _("No case update for %(days)s days (since the last update)", days=days)
                if victim.last_update_on
                else _("No case update for %(days)s days (since registration, never updated)", days=days)
            )
            items.append(OpenItem("no_update", text))
        if victim.next_update_due and victim.next_update_due < on:
            text = _("Next update was due on %(date)s", date=victim.next_update_due.isoformat())
            items.append(OpenItem("update_due", text))
        if not any(s.status in DELIVERED for s in victim.services):
            items.append(OpenItem("no_assistance", _("No assistance received yet")))
    return items


def _stuck(service: Assistance, on: date) -> bool:
    return (
        service.status == ServiceStatus.REFERRED
        and service.start_date is None
        and service.referral_date is not None
        and (on - service.referral_date).days >= STUCK_DAYS
    )


# --- the advocate's dashboard ----------------------------------------------------------------


@dataclass
class Attention:
    overdue_steps: list[tuple[int, str, str, Any]] = field(default_factory=list)  # id, code, ref, StepState
    stuck_services: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, code, type, days
    no_assistance: list[tuple[int, str]] = field(default_factory=list)
    no_update: list[tuple[int, str, date]] = field(default_factory=list)
    open_tasks: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, code, ref, outcome
    glass_breaks: list[tuple[BreakGlass, str]] = field(default_factory=list)
    more: set[str] = field(default_factory=set)  # the sections cut at ATTENTION_LIMIT


ATTENTION_LIMIT = 100


def _first(result: Attention, section: str, rows: list[Any]) -> list[Any]:
    """A section's first ATTENTION_LIMIT rows, from a query that fetched one more to tell if more exist."""
    if len(rows) > ATTENTION_LIMIT:
        result.more.add(section)
    return rows[:ATTENTION_LIMIT]


def attention(user: Any, *, mine_only: bool = True, on: date | None = None) -> Attention:
    """My victims (or all in my scope) that need something done: each section its first
    ATTENTION_LIMIT rows, in a fixed number of queries whatever the number of victims."""
    on = on or today()
    mine: ColumnElement[bool] = Victim.advocate_id == user.id if mine_only else in_scope_condition(user)
    condition = and_(in_scope_condition(user), mine, Victim.status != VictimStatus.CLOSED)
    result = Attention()
    rule_list = allegations.rules()
    # SQL picks the allegations with an overdue step (one more than a page of them: each has at
    # least one); the clock then says which steps, as on the allegation's page.
    overdue = [
        (victim_id, code, allegation.reference, state)
        for victim_id, code, allegation in db.session.execute(
            select(Victim.id, Victim.case_code, Allegation)
            .join(VictimAllegation, VictimAllegation.victim_id == Victim.id)
            .join(Allegation, Allegation.id == VictimAllegation.allegation_id)
            .where(condition, allegations.has_overdue_step(rule_list, on))
            .order_by(Victim.case_code, Allegation.reference)
            .limit(ATTENTION_LIMIT + 1)
        )
        for state in allegations.overdue_steps(allegation, rule_list, on)
    ]
    result.overdue_steps = _first(result, "overdue_steps", overdue)
    cutoff = on - timedelta(days=STUCK_DAYS)
    stuck = db.session.execute(
        select(Victim.id, Victim.case_code, Assistance.service_type, Assistance.referral_date)
        .join(Assistance, Assistance.victim_id == Victim.id)
        .where(
            condition,
            Assistance.status == ServiceStatus.REFERRED,
            Assistance.start_date.is_(None),
            Assistance.referral_date <= cutoff,
        )
        .order_by(Assistance.referral_date)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.stuck_services = [
        (victim_id, code, kind, (on - referred).days)
        for victim_id, code, kind, referred in _first(result, "stuck_services", list(stuck))
    ]
    no_assistance = db.session.execute(
        select(Victim.id, Victim.case_code)
        .where(condition, Victim.status == VictimStatus.ACTIVE, not_(received_assistance()))
        .order_by(Victim.registered_on)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.no_assistance = [(i, c) for i, c in _first(result, "no_assistance", list(no_assistance))]
    since = func.coalesce(Victim.last_update_on, Victim.registered_on)
    no_update = db.session.execute(
        select(Victim.id, Victim.case_code, since)
        .where(condition, without_update_since(on - timedelta(days=no_update_days())))
        .order_by(since)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.no_update = [(i, c, d) for i, c, d in _first(result, "no_update", list(no_update))]
    open_tasks = db.session.execute(
        select(Victim.id, Victim.case_code, Allegation.reference, VictimTask.outcome)
        .join(VictimTask, VictimTask.victim_id == Victim.id)
        .outerjoin(Allegation, Allegation.id == VictimTask.allegation_id)
        .where(condition, VictimTask.closed_at.is_(None))
        .order_by(VictimTask.created_at)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.open_tasks = [
        (i, c, ref or "—", outcome) for i, c, ref, outcome in _first(result, "open_tasks", list(open_tasks))
    ]
    result.glass_breaks = glass_breaks_for(user)
    return result
