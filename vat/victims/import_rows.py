"""The importer's two halves: `prepare` checks every row and encrypts what it holds, reading only,
and `apply` writes the result in one short transaction.

`prepare` runs each row through the same checks as the forms (the services' `new_*_columns`),
against the records already kept and the rows before it in the file, and seals identities with
the key ring. `apply` inserts everything with a few multi-row statements, writes the audit rows
the services would have written, and brings the support summaries of the victims concerned up
to date. Between the two, other people keep working: `apply` first checks that nothing the plan
relied on has changed (case codes, reference numbers and services taken since; consents,
outcomes and links of the records it touches) and refuses the whole file if anything has.
The job calls `ready` just before the save's transaction: the rows and audit rows are built
then, so that the save (on SQLite, the one write lock) lasts only as long as writing them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, func, select, text, update
from sqlalchemy.orm import selectinload

from vat import audit
from vat.allegations import clock_counts, cycle_counts, month_counts
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, Outcome
from vat.auth.actor import Actor
from vat.crypto import ENCRYPTED_TYPES, mac, seal
from vat.db import DriverRows, db, driver_rows, insert_driver_rows, lock_for_chain
from vat.errors import DomainError
from vat.inputs import InvalidField, yes_no
from vat.money import to_minor
from vat.victims import assistance, consents, identity, service_tally, support_counts, support_summary
from vat.victims.models import (
    Assistance,
    Consent,
    Victim,
    VictimAllegation,
    VictimNameKey,
    VictimTask,
)
from vat.victims.outcomes import INFORM_OUTCOME, outcome_due

CONSENT_COLUMNS = {"purpose": "consents", "given_on": "consent_date", "method": "consent_method"}
# The columns of a new victim's service the service tally counts by (`service_tally.counted_rows`).
TALLIED_VICTIM = ("country_code", "mission", "registered_on", "sex", "age_group")
TALLIED = (
    *("service_type", "status", "provider", "provider_id"),
    *("referral_date", "start_date", "end_date", "ledger_entry_id"),
)
CHUNK = 500  # ids in one IN (...): well under SQLite's and PostgreSQL's limits on parameters
T = TypeVar("T")


class RecordsChanged(DomainError):
    """Something the checked rows relied on changed before they could be saved."""


CHANGED = _l("Records changed while the file was being checked; nothing was imported. Import it again.")


@dataclass
class Event:
    """An audit row to write once ids are known: `detail` may name ids still to come."""

    action: str
    object_type: str
    object_ref: str  # a case code, or "allegation:<reference>"
    country_code: str | None
    detail: dict[str, Any]
    ids: dict[str, tuple[str, Any]] = field(default_factory=dict)  # detail key → (table, ref)


@dataclass
class Plan:
    """What the rows will write, sealed and checked, and what it relied on."""

    victims: dict[str, dict[str, Any]] = field(default_factory=dict)  # case code → columns
    names: dict[str, list[str]] = field(default_factory=dict)  # case code → blind indexes
    consents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (case code, columns)
    allegations: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference → columns
    links: list[tuple[str, str]] = field(default_factory=list)  # (case code, reference)
    tasks: list[tuple[str, str, str]] = field(default_factory=list)  # (case code, reference, outcome)
    task_updates: dict[int, str] = field(default_factory=dict)  # open task id → new outcome
    services: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (case code, columns)
    events: list[Event] = field(default_factory=list)
    known_victims: dict[str, Victim | None] = field(default_factory=dict)  # in scope, or None
    known_allegations: dict[str, Allegation | None] = field(default_factory=dict)
    stand_ins: dict[str, Victim] = field(default_factory=dict)  # new victims' consents, for checks
    outcomes: dict[str, str] = field(default_factory=dict)  # new allegations' outcomes
    victim_ids: dict[str, int] = field(default_factory=dict)  # case code → id, of known victims
    allegation_ids: dict[str, int] = field(default_factory=dict)  # reference → id, of known ones
    fingerprint: str = ""
    built: Built | None = None  # its rows, made before the save's transaction (`ready`)


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def sealed(table: Table, columns: dict[str, Any]) -> dict[str, Any]:
    """The row with its encrypted columns encrypted now (the insert stores them as they are)."""
    out = dict(columns)
    for name, value in columns.items():
        kind = table.c[name].type
        if isinstance(kind, ENCRYPTED_TYPES) and value is not None:
            out[name] = seal(value, kind.context)
    return out


# --- prepare: check and encrypt, reading only -------------------------------------------------------


def victim_of(plan: Plan, actor: Actor, case_code: str, column: str = "case_code") -> Victim:
    """The victim a row names: one of the file's, or one in the actor's scope."""
    code = case_code.strip().upper()
    if code in plan.stand_ins:
        return plan.stand_ins[code]
    if code not in plan.known_victims:
        plan.known_victims[code] = db.session.scalar(
            identity.visible_victims(actor)
            .where(Victim.case_code == code)
            .options(
                selectinload(Victim.consents),
                selectinload(Victim.allegation_links),
                selectinload(Victim.tasks),
            )
        )
    victim = plan.known_victims[code]
    if victim is None:
        raise InvalidField(column, "No victim in your scope has this case code (in this file or already).")
    return victim


def prepare_victim(plan: Plan, actor: Actor, values: dict[str, Any]) -> str | None:
    code = values.pop("case_code").upper()
    if identity.find_by_case_code(actor, code) is not None:
        return str(_l("A victim with this case code is already registered."))
    purposes = [p.strip() for p in values.pop("consents").split(";") if p.strip()]
    consent_date, method = values.pop("consent_date"), values.pop("consent_method") or "other"
    if purposes and consent_date is None:
        raise InvalidField("consent_date", "Give the date the consents were given.")
    columns = identity.new_victim_columns(
        actor=actor, case_code=code, registered_on=values.pop("registered_on"), **values
    )
    given: list[dict[str, Any]] = []
    for purpose in purposes:
        try:
            consent = consents.consent_columns(
                actor=actor,
                purpose=purpose,
                given_on=consent_date,
                method=method,
                version="import",
                recipient=None,
            )
        except InvalidField as error:
            raise InvalidField(CONSENT_COLUMNS.get(error.field, "consents"), str(error)) from error
        for earlier in given:  # the same purpose twice: the later one supersedes, as on the form
            if earlier["purpose"] == consent["purpose"] and not earlier["superseded"]:
                earlier["superseded"] = True
        given.append({**consent, "superseded": False, "withdrawn_on": None})
    code = columns["case_code"]
    plan.victims[code] = sealed(cast(Table, Victim.__table__), columns)
    plan.names[code] = identity.name_digests(columns["name"], columns["aliases"])
    plan.stand_ins[code] = Victim(case_code=code, consents=[Consent(**c) for c in given])
    filled = sorted(k for k in identity.IDENTITY_FIELDS if columns[k])
    plan.events.append(_victim_event(columns, "victim.create", {"identity_fields": filled}))
    for index, consent in enumerate(given):
        plan.consents.append((code, consent))
        detail = {"purpose": consent["purpose"], "version": consent["version"], "consent": None}
        event = _victim_event(columns, "victim.consent_given", detail)
        event.ids["consent"] = ("consent", (code, index))
        plan.events.append(event)
    return None


def _victim_event(victim: dict[str, Any] | Victim, action: str, detail: dict[str, Any]) -> Event:
    code, country = (
        (victim["case_code"], victim["country_code"])
        if isinstance(victim, dict)
        else (victim.case_code, victim.country_code)
    )
    return Event(action, "victim", code, country, detail)


def prepare_allegation(plan: Plan, actor: Actor, values: dict[str, Any]) -> str | None:
    reference = values.pop("reference")
    existing = db.session.scalar(select(Allegation).where(Allegation.reference == reference))
    if existing is not None:
        if allegations.get_allegation(actor, existing.id) is None:
            raise InvalidField(
                "reference", "This reference number belongs to an allegation outside your scope."
            )
        return str(_l("An allegation with this reference number is already recorded."))
    columns = allegations.new_allegation_columns(actor=actor, reference=reference, **values)
    reference = columns["reference"]
    plan.allegations[reference] = sealed(cast(Table, Allegation.__table__), columns)
    plan.outcomes[reference] = columns["outcome"]
    event = Event(
        "allegation.create", "allegation", reference, columns["country_code"], {"reference": reference}
    )
    event.ids["__object__"] = ("allegation", reference)
    plan.events.append(event)
    return None


def prepare_link(plan: Plan, actor: Actor, values: dict[str, Any]) -> str | None:
    victim = victim_of(plan, actor, values["case_code"])
    reference = values["reference"].strip()
    if reference in plan.outcomes:
        outcome, allegation = plan.outcomes[reference], None
    else:
        if reference not in plan.known_allegations:
            plan.known_allegations[reference] = allegations.find_by_reference(actor, reference)
        allegation = plan.known_allegations[reference]
        if allegation is None:
            raise InvalidField("reference", "No allegation in your scope has this reference number.")
        outcome = allegation.outcome
    if allegation is not None and any(
        link.allegation_id == allegation.id for link in victim.allegation_links
    ):
        return str(_l("This victim is already linked to this allegation."))
    plan.links.append((victim.case_code, reference))
    plan.events.append(_victim_event(victim, "allegation.link_victim", {"allegation": reference}))
    if outcome != Outcome.PENDING:  # the victim must be told the outcome (vat.victims.outcomes)
        open_task = next(
            (
                t
                for t in victim.tasks
                if allegation is not None and t.allegation_id == allegation.id and t.closed_at is None
            ),
            None,
        )
        if open_task is not None:
            plan.task_updates[open_task.id] = outcome
        else:
            plan.tasks.append((victim.case_code, reference, outcome))
            detail = {"task": None, "kind": INFORM_OUTCOME, "allegation": reference}
            event = _victim_event(victim, "victim.task_open", detail)
            event.ids["task"] = ("task", len(plan.tasks) - 1)
            plan.events.append(event)
    return None


def service_identity(values: dict[str, Any], names: Iterable[str]) -> tuple[str, str]:
    """A service row's identity, keyed under VAT_MAC_KEY (the notes are encrypted, their digest
    must not be guessable): its row_key if it has one, else the content of every column."""
    if values["row_key"]:
        return mac(values["row_key"], "import:assistance:row_key"), str(_l("the same row_key"))
    content = json.dumps([values[name] for name in names], default=str)
    return mac(content, "import:assistance:content"), str(_l("the same content in every column"))


def prepare_service(plan: Plan, actor: Actor, values: dict[str, Any], key: str, sameness: str) -> str | None:
    if db.session.scalar(select(Assistance.id).where(Assistance.import_key == key)) is not None:
        return str(_l("A service imported before has %(why)s.", why=sameness))
    victim = victim_of(plan, actor, values.pop("case_code"))
    values.pop("row_key")
    historical = yes_no("historical", values.pop("historical"))
    columns = assistance.new_service_columns(victim, values, historical=historical)
    cost = columns.pop("cost")
    columns["cost"] = None if cost is None else to_minor(cost, columns["currency"], field="cost")
    columns["import_key"] = key
    plan.services.append((victim.case_code, sealed(cast(Table, Assistance.__table__), columns)))
    detail = {"assistance": None, "type": columns["service_type"], "status": columns["status"]}
    event = _victim_event(victim, "victim.assistance_create", detail)
    event.ids["assistance"] = ("service", len(plan.services) - 1)
    plan.events.append(event)
    return None


def finish(plan: Plan) -> None:
    """Remember the records the plan touches, by id, and their state, for `apply` to compare
    (objects read while checking are expired when that transaction ends)."""
    plan.victim_ids = {code: v.id for code, v in plan.known_victims.items() if v is not None}
    plan.allegation_ids = {ref: a.id for ref, a in plan.known_allegations.items() if a is not None}
    plan.known_victims, plan.known_allegations, plan.stand_ins = {}, {}, {}
    plan.fingerprint = fingerprint(plan)


def fingerprint(plan: Plan) -> str:
    """What the plan relied on, as it is now: the records it touches and what would change a
    check (consents, outcomes, links, open tasks), and whether new keys are still free."""
    victim_ids = sorted(plan.victim_ids.values())
    allegation_ids = sorted(plan.allegation_ids.values())
    state: list[Any] = []
    for ids in chunks(victim_ids):
        state += db.session.execute(
            select(Victim.id, Victim.country_code, Victim.mission, Victim.status).where(Victim.id.in_(ids))
        ).all()
        state += db.session.execute(
            select(Consent.id, Consent.victim_id, Consent.superseded, Consent.withdrawn_on)
            .where(Consent.victim_id.in_(ids))
            .order_by(Consent.id)
        ).all()
        state += db.session.execute(
            select(VictimAllegation.victim_id, VictimAllegation.allegation_id)
            .where(VictimAllegation.victim_id.in_(ids))
            .order_by(VictimAllegation.id)
        ).all()
        state += db.session.execute(
            select(VictimTask.id, VictimTask.outcome, VictimTask.closed_at)
            .where(VictimTask.victim_id.in_(ids))
            .order_by(VictimTask.id)
        ).all()
    for ids in chunks(allegation_ids):
        state += db.session.execute(
            select(Allegation.id, Allegation.outcome, Allegation.country_code, Allegation.mission)
            .where(Allegation.id.in_(ids))
            .order_by(Allegation.id)
        ).all()
    for column, keys in (
        (Victim.case_code, list(plan.victims)),
        (Allegation.reference, list(plan.allegations)),
        (Assistance.import_key, [s["import_key"] for _, s in plan.services]),
    ):
        for part in chunks(keys):
            state += [("taken", v) for v in db.session.scalars(select(column).where(column.in_(part)))]
    return json.dumps([list(row) for row in state], default=str)


# --- apply: one short transaction ---------------------------------------------------------------


@dataclass
class Built:
    """The plan's rows as they will be written, once ids are taken: each table's rows as the
    driver takes them (those hanging only on records the file creates, then those naming records
    already kept), the audit rows but their place in the chain."""

    first_ids: dict[str, int]  # table → the first id taken
    victim_ids: dict[str, int]  # case code → id, kept and new
    new_victims: list[int]
    new_allegations: list[int]
    new_tally: Counter[service_tally.Key]  # what the new victims' services add to the tally
    kept_services: list[int]
    alone: list[DriverRows | None]
    seen: list[DriverRows | None]
    events: list[audit.Unchained]


def ready(actor: Actor, plan: Plan) -> None:
    """Build the save's rows before its write transaction begins (in a reading one), so that the
    save holds its locks only to write them: SQLite's one write lock is held from the save's
    BEGIN IMMEDIATE. The ids are taken now: PostgreSQL's from their sequences; SQLite's are the
    next free ones, which `apply` checks are still free, or builds again."""
    plan.built = _built(actor, plan, _ids_taken(plan))


def _ids_taken(plan: Plan) -> dict[str, list[int]]:
    counts = {
        Victim.__table__: len(plan.victims),
        Allegation.__table__: len(plan.allegations),
        Consent.__table__: len(plan.consents),
        VictimAllegation.__table__: len(plan.links),
        VictimTask.__table__: len(plan.tasks),
        Assistance.__table__: len(plan.services),
    }
    return {cast(Table, table).name: _ids(table, count) for table, count in counts.items()}


def _still_free(built: Built) -> bool:
    """Whether no other writer has taken the ids `ready` took (SQLite: writers take the next id)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return True
    models = (Victim, Allegation, Consent, VictimAllegation, VictimTask, Assistance)
    tables = {cast(Table, model.__table__).name: cast(Table, model.__table__) for model in models}
    return all(
        (db.session.scalar(select(func.max(tables[name].c.id))) or 0) < first
        for name, first in built.first_ids.items()
    )


def _ids(table: Any, count: int) -> list[int]:
    """Ids for `count` new rows of `table`, taken before they are inserted (no RETURNING:
    psycopg's ordered RETURNING made 10,000 rows take 10 s)."""
    if not count:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return list(
            db.session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": table.name, "n": count},
            )
        )
    # The next ids: free while this transaction holds the write lock, or checked again under it.
    first = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


def _with_ids(rows: list[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    return [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]


def _split(
    rows: list[dict[str, Any]], ids: list[int], unseen: list[bool]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows with their ids: those that hang only on new records, then those that name records
    already kept."""
    parts: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for row, alone in zip(_with_ids(rows, ids), unseen, strict=True):
        parts[0 if alone else 1].append(row)
    return parts


def _built(actor: Actor, plan: Plan, ids: dict[str, list[int]]) -> Built:
    new_victims, new_allegations = ids["vat_victim"], ids["vat_allegation"]
    consent_ids, task_ids, service_ids = ids["vat_consent"], ids["vat_victim_task"], ids["vat_assistance"]
    victim_ids = dict(plan.victim_ids) | dict(zip(plan.victims, new_victims, strict=True))
    allegation_ids = dict(plan.allegation_ids) | dict(zip(plan.allegations, new_allegations, strict=True))
    keys = [
        {"victim_id": victim_ids[code], "digest": d} for code, digests in plan.names.items() for d in digests
    ]
    # Consents come only with the file's own victims.
    consents = [{**c, "victim_id": victim_ids[code]} for code, c in plan.consents]
    links = [{"victim_id": victim_ids[c], "allegation_id": allegation_ids[r]} for c, r in plan.links]
    due = outcome_due()
    tasks = [
        {
            "victim_id": victim_ids[c],
            "allegation_id": allegation_ids[r],
            "kind": INFORM_OUTCOME,
            "outcome": o,
            "due_on": due,
        }
        for c, r, o in plan.tasks
    ]
    services = [{**s, "victim_id": victim_ids[code]} for code, s in plan.services]
    new_links = _split(
        links,
        ids["vat_victim_allegation"],
        [c in plan.victims and r in plan.allegations for c, r in plan.links],
    )
    new_tasks = _split(
        tasks, task_ids, [c in plan.victims and r in plan.allegations for c, r, _ in plan.tasks]
    )
    unseen = [code in plan.victims for code, _ in plan.services]
    new_services = _split(services, service_ids, unseen)
    split = list(
        zip(
            (VictimAllegation.__table__, VictimTask.__table__, Assistance.__table__),
            (new_links, new_tasks, new_services),
            strict=True,
        )
    )
    positions: dict[tuple[str, int], int] = {}
    counter: dict[str, int] = {}
    for (code, _), consent_id in zip(plan.consents, consent_ids, strict=True):
        positions[(code, counter.get(code, 0))] = consent_id
        counter[code] = counter.get(code, 0) + 1
    named: dict[str, Callable[[Any], Any]] = {
        "consent": positions.__getitem__,
        "allegation": allegation_ids.__getitem__,
        "task": task_ids.__getitem__,
        "service": service_ids.__getitem__,
    }
    return Built(
        first_ids={name: taken[0] for name, taken in ids.items() if taken},
        victim_ids=victim_ids,
        new_victims=new_victims,
        new_allegations=new_allegations,
        new_tally=service_tally.counted_rows(
            SimpleNamespace(
                **{n: plan.victims[code][n] for n in TALLIED_VICTIM}, **{n: s.get(n) for n in TALLIED}
            )
            for code, s in plan.services
            if code in plan.victims
        ),
        kept_services=[i for i, alone in zip(service_ids, unseen, strict=True) if not alone],
        alone=[
            driver_rows(cast(Table, Victim.__table__), _with_ids(list(plan.victims.values()), new_victims)),
            driver_rows(cast(Table, VictimNameKey.__table__), keys),
            driver_rows(cast(Table, Consent.__table__), _with_ids(consents, consent_ids)),
            driver_rows(
                cast(Table, Allegation.__table__), _with_ids(list(plan.allegations.values()), new_allegations)
            ),
            *[driver_rows(cast(Table, table), rows) for table, (rows, _) in split],
        ],
        seen=[driver_rows(cast(Table, table), rows) for table, (_, rows) in split],
        events=audit.unchained(actor, [_audit_fields(event, named) for event in plan.events]),
    )


def apply(actor: Actor, plan: Plan) -> None:
    """Write the plan, in the caller's transaction; RecordsChanged if what it relied on moved.

    Its rows are built before the transaction when the caller ran `ready` (and built here if not,
    or if the ids it took are no longer free). Other writers wait only for the audit chain's lock
    (PostgreSQL), so the save writes what it can before taking it: the rows that hang only on
    records this import creates (no other writer sees them), their counts and summaries, and its
    audit events as a batch. Under the lock, in the order every writer takes its locks (the chain,
    then victims' rows, then the counts): the rows naming records already kept (a foreign key's
    check locks the row it names, which a writer holding the chain's lock may be about to lock),
    the counts, the one event that commits the batch to the chain.
    SQLite's one writer holds its lock throughout."""
    if fingerprint(plan) != plan.fingerprint:
        raise RecordsChanged(CHANGED)
    built = plan.built
    if built is None or not _still_free(built):
        built = _built(actor, plan, _ids_taken(plan))
    plan.built = None  # its ids are used: a second save builds again
    for rows in built.alone:
        insert_driver_rows(rows)
    new_support = support_summary.start_many(sorted(built.new_victims))
    events = audit.insert_batch(built.events)

    lock_for_chain("audit_event")  # every audited writer waits from here to the commit
    for rows in built.seen:
        insert_driver_rows(rows)
    for task_id, outcome in plan.task_updates.items():
        db.session.execute(update(VictimTask).where(VictimTask.id == task_id).values(outcome=outcome))
    clock_counts.count_added(built.new_allegations)
    cycle_counts.count_added(built.new_allegations)
    month_counts.count_added(built.new_allegations)
    service_tally.count_added(built.kept_services, counted_before=built.new_tally)
    audit.commit_batch(events, actor=actor)
    kept = {built.victim_ids[code] for code, _ in plan.services} - set(built.new_victims)
    support_summary.refresh_many(sorted(kept))
    support_counts.add(new_support.items())
    db.session.expire_all()  # objects read while preparing do not know these rows


def _audit_fields(event: Event, ids: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    detail = dict(event.detail)
    object_id: Any = event.object_ref
    for key, (table, ref) in event.ids.items():
        if key == "__object__":
            object_id = ids[table](ref)
        else:
            detail[key] = ids[table](ref)
    return {
        "action": event.action,
        "object_type": event.object_type,
        "object_id": object_id,
        "country_code": event.country_code,
        "detail": detail,
    }
