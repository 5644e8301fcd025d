"""Who the victims are: every victim query starts from the actor's scope here; registering,
updating and closing a case, case codes, reading the encrypted identity (audited), and breaking
the glass. The only code that writes or decrypts victim identities."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from vat.auth.actor import Actor
from vat.auth.break_glass import break_glass
from vat.auth.models import BreakGlass, Role, User
from vat.auth.policy import in_scope, scope_filter
from vat.crypto import blind_index
from vat.db import db, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, country, each_field, mission, past_date, today
from vat.victims import feedback_counts, need_counts, service_tally, support_counts, support_summary
from vat.victims.history import audit_victim
from vat.victims.labels import vat_label
from vat.victims.models import AgeGroup, CaseCounter, Sex, Victim, VictimNameKey, VictimStatus

NAME_PURPOSE = "vat_victim.name"
# One word of a name, without case or accents: its own purpose, so a word never equals a whole name.
NAME_WORD_PURPOSE = "vat_victim.name_word"
IDENTITY_FIELDS = ("name", "aliases", "date_of_birth", "contact", "location", "notes")
TEXT_LIMITS = {"name": 200, "aliases": 500, "contact": 500, "location": 500, "notes": 5000}
DEFAULT_PREFIXES = {"CAF": "CAR", "COD": "DRC"}


# --- scope: every victim query starts here ---------------------------------------------------


def in_scope_condition(user: Actor) -> ColumnElement[bool]:
    return scope_filter(user, Victim.country_code, Victim.mission, record_type="victim", id_column=Victim.id)


def visible_victims(user: Actor) -> Select[Victim]:
    return select(Victim).where(in_scope_condition(user))


def get_victim(user: Actor, victim_id: int) -> Victim | None:
    return db.session.scalar(visible_victims(user).where(Victim.id == victim_id))


def find_by_case_code(user: Actor, case_code: str) -> Victim | None:
    return db.session.scalar(visible_victims(user).where(Victim.case_code == case_code.strip().upper()))


def advocates_for(user: Actor) -> list[User]:
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


def _checked(actor: Actor, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The victim's categories and identity, every field's refusal at once."""
    both = each_field(
        {"categories": lambda: _categories(actor, values), "identity": lambda: _identity(values)}
    )
    return both["categories"], both["identity"]


def _text_check(values: dict[str, Any], name: str, limit: int) -> Callable[[], str | None]:
    return lambda: clean_text(name, values.get(name), max_length=limit)


def _identity(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = each_field(
        {
            **{name: _text_check(values, name, limit) for name, limit in TEXT_LIMITS.items()},
            "date_of_birth": lambda: past_date("date_of_birth", values.get("date_of_birth")),
        }
    )
    born = cleaned["date_of_birth"]
    cleaned["date_of_birth"] = born.isoformat() if born else None
    return cleaned


def _categories(actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    cleaned = each_field(
        {
            "country_code": lambda: country("country_code", values.get("country_code")),
            "mission": lambda: mission("mission", values.get("mission")),
            "sex": lambda: choice("sex", values.get("sex"), Sex, default="unknown"),
            "age_group": lambda: choice("age_group", values.get("age_group"), AgeGroup, default="unknown"),
        }
    )
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
        db.session.execute(
            delete(VictimNameKey).where(VictimNameKey.victim_id == victim.id),
            execution_options={"synchronize_session": False},
        )
    db.session.add_all(VictimNameKey(victim_id=victim.id, digest=d) for d in name_digests(name, aliases))


def name_digests(name: str | None, aliases: str | None) -> list[str]:
    """The blind indexes a victim is found by: the name, each alias, and each word of them."""
    names = [name or ""] + re.split(r"[;\n]", aliases or "")
    whole = {blind_index(n, NAME_PURPOSE) for n in names if n.strip()}
    return sorted(whole | {word_digest(w) for n in names for w in name_words(n)})


def name_words(value: str) -> set[str]:
    """The words of a name as searched: case and accents dropped ("Zaïnab" is "zainab"), split at
    spaces, hyphens and apostrophes; a single letter is too common to tell anyone apart."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return {word for word in re.split(r"[\W_]+", plain.casefold()) if len(word) > 1}


def word_digest(word: str) -> str:
    return blind_index(word, NAME_WORD_PURPOSE)


def reindex_names(*, batch: int = 500) -> int:
    """Rebuild every victim's name indexes from the decrypted names (after the MAC key or the way
    names are indexed changes), a batch of victims at a time; returns how many were indexed."""
    done, last = 0, 0
    while victims := db.session.scalars(
        select(Victim).where(Victim.id > last).order_by(Victim.id).limit(batch)
    ).all():
        for victim in victims:
            _index_names(victim, victim.name, victim.aliases)
        db.session.flush()
        db.session.expunge_all()
        done, last = done + len(victims), victims[-1].id
    return done


def register_victim(
    *,
    actor: Actor,
    prefix: str | None = None,
    case_code: str | None = None,
    registered_on: date | None = None,
    **values: Any,
) -> Victim:
    """Register a victim. `case_code` is for imports of existing records; otherwise one is made."""
    columns = new_victim_columns(actor=actor, case_code=case_code, registered_on=registered_on, **values)
    if not columns["case_code"]:
        columns["case_code"] = next_case_code(
            prefix or default_prefix(columns["country_code"]), columns["registered_on"].year
        )
    victim = Victim(**columns)
    identity = {name: columns[name] for name in IDENTITY_FIELDS}
    db.session.add(victim)
    db.session.flush()
    _index_names(victim, identity["name"], identity["aliases"], new=True)
    support_summary.start(victim.id)
    audit_victim(
        "victim.create",
        actor=actor,
        victim=victim,
        detail={"identity_fields": sorted(k for k, v in identity.items() if v)},
    )
    return victim


def new_victim_columns(
    *, actor: Actor, case_code: str | None, registered_on: date | None, **values: Any
) -> dict[str, Any]:
    """A new victim's checked columns, written nowhere (the importer inserts many at once);
    `case_code` empty when one is still to be made."""
    categories, identity = _checked(actor, values)
    registered_on = past_date("registered_on", registered_on) or today()
    if case_code:
        case_code = case_code.strip().upper()
        if not CASE_CODE_PATTERN.match(case_code):
            raise InvalidField("case_code", _l("Case codes use capital letters, digits and dashes."))
        if db.session.scalar(select(Victim.id).where(Victim.case_code == case_code)):
            raise InvalidField("case_code", _l("This case code is taken."))
    advocate_id = categories.pop("advocate_id") or (actor.id if _is_advocate(actor) else None)
    return {
        "case_code": case_code or "",
        "registered_on": registered_on,
        "status": VictimStatus.ACTIVE,
        "advocate_id": advocate_id,
        **categories,
        **identity,
    }


def _is_advocate(user: Actor) -> bool:
    return user is not None and Role(user.role).sees_identities


def update_victim(*, actor: Actor, victim: Victim, **values: Any) -> Victim:
    categories, identity = _checked(actor, values)
    changed = [k for k, v in {**categories, **identity}.items() if getattr(victim, k) != v]
    counted_in = support_counts.key_of(victim)
    # The services, the needs and the feedback are counted in the victim's place.
    with (
        service_tally.recounting([victim.id]),
        need_counts.recounting([victim.id]),
        feedback_counts.recounting([victim.id]),
    ):
        for key, value in {**categories, **identity}.items():
            setattr(victim, key, value)
    if "name" in changed or "aliases" in changed:
        _index_names(victim, identity["name"], identity["aliases"])
    db.session.flush()
    support_counts.moved(victim.id, counted_in, support_counts.key_of(victim))
    audit_victim("victim.update", actor=actor, victim=victim, detail={"fields": sorted(changed)})
    return victim


def set_status(*, actor: Actor, victim: Victim, status: str) -> Victim:
    status = choice("status", status, VictimStatus)
    if status == victim.status:
        raise DomainError(_l("The case is already %(status)s.", status=vat_label(status)))
    before, victim.status = victim.status, status
    # The retention period runs from the closing; reopening stops it and withdraws any request
    # to erase the identity.
    victim.closed_on = today() if status == VictimStatus.CLOSED else None
    if status != VictimStatus.CLOSED:
        victim.erasure_requested_by_id = victim.erasure_requested_at = None
    db.session.flush()
    audit_victim("victim.status", actor=actor, victim=victim, detail={"from": before, "to": status})
    return victim


def read_identity(*, actor: Actor, victim: Victim) -> dict[str, str | None]:
    """Decrypt the victim's identity for the actor, and record that they saw it."""
    audit_victim("victim.view_identity", actor=actor, victim=victim)
    return {name: getattr(victim, name) for name in IDENTITY_FIELDS}


def record_read(*, actor: Actor, victim: Victim, what: str, record_id: int) -> None:
    """Record that the actor opened an encrypted note of this victim's (a service or a child)."""
    audit_victim("victim.view_record", actor=actor, victim=victim, detail={what: record_id})


# --- break the glass -------------------------------------------------------------------------


def break_glass_victim(*, actor: Actor, case_code: str, reason: str) -> Victim:
    """A senior advocate opens one victim outside their scope, with a stated reason."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise DomainError(_l("Only a senior advocate may break the glass."))
    victim = db.session.scalar(select(Victim).where(Victim.case_code == case_code.strip().upper()))
    if victim is None:
        raise InvalidField("case_code", _l("No victim has this case code."))
    if in_scope(actor, victim.country_code, victim.mission):
        raise InvalidField("case_code", _l("This victim is in your scope: open the record directly."))
    break_glass(
        actor=actor,
        record_type="victim",
        record_id=victim.id,
        reason=reason,
        country_code=victim.country_code,
    )
    return victim


def glass_breaks_for(user: Actor, *, days: int = 30) -> list[tuple[BreakGlass, str]]:
    """Recent break-glass openings of victims this user is in charge of (shown on their dashboard)."""
    rows = db.session.execute(
        select(BreakGlass, Victim.case_code)
        .join(Victim, and_(BreakGlass.record_type == "victim", BreakGlass.record_id == Victim.id))
        .where(Victim.advocate_id == user.id, BreakGlass.created_at >= utcnow() - timedelta(days=days))
        .options(selectinload(BreakGlass.user))
        .order_by(BreakGlass.created_at.desc())
    ).all()
    return [(grant, code) for grant, code in rows]
