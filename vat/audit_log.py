"""The audit log as an auditor reads it (issue 19, item 4): filtered by who, what, which object and
when, searched by case code or reference, with readable names, and exported to CSV (the export
itself audited). What each role may read is `visible_events`; the filters only narrow it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, Select, Table, func, or_, select, true
from sqlalchemy.orm import QueryableAttribute
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs
from wtforms.validators import Length, Optional

from vat import audit
from vat.audit import AuditActor, AuditEvent
from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.db import db
from vat.paging import Page, page_of
from vat.sorting import Sort, SortableColumns

# The part of an action before its first dot, as a reader names it.
DOMAINS = {
    "auth": _l("Sign-in and accounts"),
    "user": _l("Users"),
    "victim": _l("Victims"),
    "allegation": _l("Allegations"),
    "claim": _l("Claims"),
    "ledger": _l("Ledger"),
    "disbursement": _l("Disbursements"),
    "donor": _l("Donors"),
    "project": _l("Projects"),
    "rate": _l("Exchange rates"),
    "period": _l("Period close"),
    "keys": _l("Encryption keys"),
    "report": _l("Reports and exports"),
    "audit": _l("Audit log"),
}
OBJECTS = {
    "victim": _l("victim"),
    "allegation": _l("allegation"),
    "claim": _l("claim"),
    "ledger_entry": _l("ledger entry"),
    "user": _l("user"),
    "period": _l("period"),
    "report": _l("report"),
}
PAGE_SIZE = 50
EXPORT_HEADER = ["id", "at (UTC)", "who", "action", "object type", "object", "country", "address", "detail"]


@dataclass(frozen=True)
class AuditFilters:
    who: str = ""
    domain: str = ""  # a key of DOMAINS
    object_type: str = ""
    start: date | None = None
    end: date | None = None
    search: str = ""  # a case code, a reference, an id: the object named, or within the detail

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}


def _choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice("", _l("any")), *(SelectChoice(value, label) for value, label in labels.items())]


class AuditFilterForm(FlaskForm):
    """Read from the query string (GET): it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    who = SelectField(_l("Who (user name)"), choices=[], default="")
    domain = SelectField(_l("Action"), choices=_choices(DOMAINS), default="")
    object_type = SelectField(_l("Object"), choices=_choices(OBJECTS), default="")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    search = StringField(_l("Case code, reference or id"), validators=[Optional(), Length(max=80)])

    @classmethod
    def of(cls, reader: Actor, args: Any) -> AuditFilterForm:
        """The form for `reader`: "who" offers the names in the events they may read."""
        form = cls(args)
        form.who.choices = _choices({name: name for name in actors(reader)})
        return form

    def filters(self) -> AuditFilters:
        """The filters, or none if the form does not validate (its errors are shown)."""
        if not self.validate():
            return AuditFilters()
        return AuditFilters(
            who=(self.who.data or "").strip(),
            domain=self.domain.data or "",
            object_type=self.object_type.data or "",
            start=self.start.data,
            end=self.end.data,
            search=(self.search.data or "").strip(),
        )


def visible_events(user: Actor) -> Select[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    return query.where(_reach(user, AuditEvent.object_type, AuditEvent.country_code))


def _reach(
    user: Actor, object_type: QueryableAttribute[Any], country_code: QueryableAttribute[Any]
) -> ColumnElement[bool]:
    """Auditors and admins read everything; fund managers the ledger; senior advocates their scope:
    as a condition on the columns of what was acted on."""
    role = Role(user.role)
    if role is Role.FUND_MANAGER:
        return object_type.like("ledger%")
    if role is Role.SENIOR_ADVOCATE:
        return country_code.in_([s.country_code for s in user.scopes])
    return true()


def actors(user: Actor) -> list[str]:
    """The names of those who acted in the events `user` may read, from the few rows kept of who
    acted on what (the log is long)."""
    reach = _reach(user, AuditActor.object_type, AuditActor.country_code)
    return sorted(db.session.scalars(select(AuditActor.actor_name).where(reach).distinct()))


def events(user: Actor, filters: AuditFilters) -> Select[AuditEvent]:
    """What `user` may read, narrowed by `filters`, newest first."""
    query = visible_events(user)
    if filters.who:
        query = query.where(AuditEvent.actor_name == filters.who)
    if filters.domain in DOMAINS:
        query = query.where(
            or_(AuditEvent.action == filters.domain, AuditEvent.action.like(f"{filters.domain}.%"))
        )
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.start:
        query = query.where(AuditEvent.at >= datetime.combine(filters.start, time.min, tzinfo=UTC))
    if filters.end:
        query = query.where(
            AuditEvent.at < datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=UTC)
        )
    term = filters.search.strip()
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(AuditEvent.object_id == term, AuditEvent.detail.like(f"%{escaped}%", escape="\\"))
        )
    return query


# The list's order (the export keeps the log's own, newest first).
SORTS = SortableColumns.of(
    AuditEvent,
    ("id", "at", "actor_name", "action", "object_type", "country_code"),
    Sort("id", descending=True),
)


def action_label(action: str) -> str:
    """'ledger.receipt' → 'Ledger: receipt'; an action of no known domain as it is."""
    domain, _, rest = action.partition(".")
    if domain not in DOMAINS:
        return action.replace("_", " ").replace("-", " ")
    return f"{DOMAINS[domain]}: {rest.replace('_', ' ').replace('.', ' ')}" if rest else str(DOMAINS[domain])


def object_label(event: AuditEvent) -> str:
    if not event.object_type:
        return ""
    kind = OBJECTS.get(event.object_type, event.object_type.replace("_", " "))
    return f"{kind} {event.object_id or ''}".strip()


def export_rows(user: Actor, filters: AuditFilters) -> Iterator[list[Any]]:
    """The filtered events as CSV rows, read in batches (the log is long)."""
    for event in db.session.scalars(events(user, filters).execution_options(yield_per=1000)):
        yield [
            event.id,
            event.at.isoformat(timespec="seconds"),
            event.actor_name,
            event.action,
            event.object_type or "",
            event.object_id or "",
            event.country_code or "",
            event.address or "",
            event.detail,
        ]


def page(user: Actor, filters: AuditFilters, sort: Sort, number: int) -> Page:
    """Page `number` of `events` in the order `sort`, with their total (`count`): each event a row
    of the log's columns, which the page reads as it would the event. None are looked for past
    the total: a reach with no events (a scope new to the log) would walk the whole log for them."""
    total = count(user, filters)
    if (number - 1) * PAGE_SIZE >= total:
        return Page(items=[], page=number, per_page=PAGE_SIZE, total=total)
    query = SORTS.apply(events(user, filters), sort).with_only_columns(*cast(Table, AuditEvent.__table__).c)
    return page_of(query, page=number, per_page=PAGE_SIZE, count=lambda: total)


def count(user: Actor, filters: AuditFilters) -> int:
    """How many events `events` finds: read from the kept counts when no filter but "who" narrows
    them (the log is long), else counted in the log."""
    if replace(filters, who="") == AuditFilters():
        kept = select(func.sum(AuditActor.events)).where(
            _reach(user, AuditActor.object_type, AuditActor.country_code)
        )
        if filters.who:
            kept = kept.where(AuditActor.actor_name == filters.who)
        return int(db.session.scalar(kept) or 0)
    return int(db.session.scalar(select(func.count()).select_from(events(user, filters).subquery())) or 0)


def record_export(user: Actor, filters: AuditFilters, rows: int) -> None:
    audit.record(
        "audit.export", actor=user, object_type="report", object_id="audit-log",
        detail={"filters": filters.as_dict(), "rows": rows},
    )  # fmt: skip
