"""The service-provider directory (issue 18): who offers which services where, with their contact,
languages and availability, kept by senior advocates (for their countries) and administrators.
Referrals choose a provider from it; a provider typed as free text can later join it, and the
referrals that named it are then linked to it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from vat import audit
from vat.addresses import record_id
from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.auth.policy import in_scope
from vat.db import assign, db
from vat.errors import NotAllowed
from vat.inputs import InvalidField, choice, clean_text, country, each_field, past_date, today
from vat.victims import service_tally
from vat.victims.models import Assistance, Availability, Provider, ProviderService, ServiceType, Victim


def may_manage(actor: Actor, country_code: str) -> bool:
    """Administrators keep the whole directory; a senior advocate the providers of the countries
    they cover whole (a mission-limited scope does not cover a country's providers)."""
    role = Role(actor.role)
    if role is Role.ADMIN:
        return True
    return role is Role.SENIOR_ADVOCATE and in_scope(actor, country_code, None)


def _require_manage(actor: Actor, country_code: str) -> None:
    if not may_manage(actor, country_code):
        raise NotAllowed(_l("You do not keep the directory for this country."))


def _service_types(values: Iterable[str] | None) -> list[str]:
    chosen = sorted({choice("service_types", v, ServiceType) for v in values or ()})
    if not chosen:
        raise InvalidField("service_types", _l("Choose at least one service the provider offers."))
    return chosen


def _provider_values(values: dict[str, Any], service_types: Iterable[str] | None) -> dict[str, Any]:
    """A provider's checked columns and its services ("service_types"), every refusal at once."""
    return each_field(
        {
            "name": lambda: clean_text("name", values.get("name"), max_length=200, required=True),
            "country_code": lambda: country("country_code", values.get("country_code")),
            "location": lambda: clean_text("location", values.get("location"), max_length=120),
            "contact": lambda: clean_text("contact", values.get("contact"), max_length=500),
            "languages": lambda: clean_text("languages", values.get("languages"), max_length=200),
            "availability": lambda: choice(
                "availability", values.get("availability"), Availability, default=Availability.AVAILABLE
            ),
            "availability_on": lambda: past_date("availability_on", values.get("availability_on")) or today(),
            "service_types": lambda: _service_types(service_types),
        }
    )


def _same_name(name: str) -> Any:
    return func.lower(func.trim(Assistance.provider)) == name.strip().lower()


def _refuse_duplicate(name: str, country_code: str, provider_id: int | None = None) -> None:
    query = select(Provider.id).where(
        Provider.country_code == country_code, func.lower(Provider.name) == name.lower()
    )
    if provider_id is not None:
        query = query.where(Provider.id != provider_id)
    if db.session.scalar(query) is not None:
        raise InvalidField("name", _l("This provider is already in the directory for this country."))


def link_free_text(provider: Provider) -> int:
    """Link the referrals that typed this provider's name (any case, surrounding spaces aside) for
    a victim of its country and chose no provider; returns how many were linked."""
    in_country = select(Victim.id).where(Victim.country_code == provider.country_code)
    named = [
        Assistance.provider_id.is_(None),
        Assistance.victim_id.in_(in_country),
        _same_name(provider.name),
    ]
    victims = db.session.scalars(select(Assistance.victim_id).where(*named).distinct())
    with service_tally.recounting(victims):
        result = db.session.execute(
            update(Assistance)
            .where(*named)
            .values(provider_id=provider.id)
            .execution_options(synchronize_session="fetch")
        )
    return int(getattr(result, "rowcount", 0) or 0)


def create_provider(*, actor: Actor, service_types: Iterable[str] | None, **values: Any) -> Provider:
    """Add a provider to the directory; referrals that named it as free text are linked to it
    (the promotion of an ad-hoc provider)."""
    cleaned = _provider_values(values, service_types)
    wanted = cleaned.pop("service_types")
    _require_manage(actor, cleaned["country_code"])
    _refuse_duplicate(cleaned["name"], cleaned["country_code"])
    provider = Provider(**cleaned)
    provider.services = [ProviderService(service_type=t) for t in wanted]
    db.session.add(provider)
    db.session.flush()
    linked = link_free_text(provider)
    _audit("provider.create", actor, provider, {"services": provider.service_types, "linked": linked})
    return provider


def update_provider(
    *, actor: Actor, provider: Provider, service_types: Iterable[str] | None, **values: Any
) -> Provider:
    _require_manage(actor, provider.country_code)
    cleaned = _provider_values(values, service_types)
    wanted = cleaned.pop("service_types")
    _require_manage(actor, cleaned["country_code"])
    _refuse_duplicate(cleaned["name"], cleaned["country_code"], provider.id)
    changed = assign(provider, cleaned)
    if wanted != provider.service_types:
        changed.append("services")
        kept = [s for s in provider.services if s.service_type in wanted]
        added = [ProviderService(service_type=t) for t in wanted if t not in provider.service_types]
        provider.services = kept + added
    db.session.flush()
    _audit("provider.update", actor, provider, {"fields": changed})
    return provider


def _audit(action: str, actor: Actor, provider: Provider, detail: dict[str, Any]) -> None:
    country_code = provider.country_code
    audit.record(
        action,
        actor=actor,
        object_type="provider",
        object_id=provider.id,
        detail=detail,
        country_code=country_code,
    )


def directory(*, country_code: str = "", service_type: str = "") -> list[Provider]:
    """The directory, by country and name; filtered to a country and a service if given."""
    query = select(Provider).order_by(Provider.country_code, Provider.name)
    if country_code:
        query = query.where(Provider.country_code == country_code)
    if service_type:
        offers = select(ProviderService.provider_id).where(ProviderService.service_type == service_type)
        query = query.where(Provider.id.in_(offers))
    return list(db.session.scalars(query))


def get_provider(provider_id: int) -> Provider | None:
    return db.session.get(Provider, provider_id)


def ad_hoc_providers(actor: Actor) -> list[tuple[str, str, int]]:
    """Providers typed as free text and not (yet) in the directory, for the countries the actor
    keeps and can see: (country, one spelling of the name, referrals), most referred first."""
    rows = service_tally.typed_providers(actor, limit=50)
    return [(c, n.strip(), k) for c, n, k in rows if may_manage(actor, c)]


def chosen_provider(victim: Victim, service_type: str, provider_id: Any) -> Provider | None:
    """The directory provider a referral chose, checked against the victim's country and the
    service; None when none was chosen."""
    if provider_id in (None, ""):
        return None
    number = record_id(str(provider_id))
    provider = db.session.get(Provider, number) if number is not None else None
    if provider is None or provider.country_code != victim.country_code:
        raise InvalidField("provider_id", _l("Choose a provider of the victim's country."))
    if service_type not in provider.service_types:
        raise InvalidField("provider_id", _l("This provider does not offer this service."))
    return provider


def provider_named(victim: Victim, name: str | None) -> Provider | None:
    """The directory provider of the victim's country whose name was typed, if any."""
    if not name:
        return None
    return db.session.scalar(
        select(Provider).where(
            Provider.country_code == victim.country_code, func.lower(Provider.name) == name.strip().lower()
        )
    )
