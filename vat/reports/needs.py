"""Needs met and unmet by type, and the quality of the help as victims judge it: satisfaction and
complaints per service type or per provider (issue 18). Every count covers every victim within
the viewer's reach; for those outside the advocates' scope small counts are suppressed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from vat.auth.actor import Actor
from vat.db import db
from vat.reports.scope import (
    VictimFilters,
    counts_conditions,
    glass_conditions,
    sees_rows,
    share,
    threshold,
    victim_conditions,
)
from vat.reports.suppression import SuppressedTable, suppress, suppress_sharing_row_totals
from vat.victims import feedback_counts, need_counts
from vat.victims.feedback_counts import CASE_UPDATES
from vat.victims.labels import vat_label
from vat.victims.models import (
    Assistance,
    Feedback,
    NeedStatus,
    Satisfaction,
    ServiceType,
    Victim,
)


def _limit(user: Actor) -> int:
    return 1 if sees_rows(user) else threshold()


# --- needs by type and status -------------------------------------------------------------------


def needs_table(user: Actor, filters: VictimFilters) -> SuppressedTable:
    """Needs assessed, by type (rows) and status (columns): one need per victim and type, so each
    count is a count of victims. Read from the counts the needs keep (vat.victims.need_counts): by
    place alone when no year, sex or age filter needs their finer rows."""
    by_place = not (filters.year or filters.sex or filters.minor is not None)
    table = need_counts.by_place if by_place else need_counts.counts
    row = table.c
    counts: Counter[tuple[str, str]] = Counter()
    for kind, status, n in db.session.execute(
        select(row.need_type, row.status, func.sum(row.victims))
        .where(*counts_conditions(user, filters, table))
        .group_by(row.need_type, row.status)
    ):
        counts[(kind, status)] += int(n or 0)
    glass = glass_conditions(user, filters)
    if glass is not None:  # victims opened by breaking the glass: their own needs
        for *key, n in db.session.execute(need_counts.summed(select(Victim.id).where(*glass))):
            counts[(key[-2], key[-1])] += int(n)
    statuses = list(NeedStatus)
    return suppress(
        [vat_label(t.value) for t in ServiceType],
        [vat_label(s.value) for s in statuses],
        [[counts.get((t.value, s.value), 0) for s in statuses] for t in ServiceType],
        threshold=_limit(user),
    )


UNMET_COLUMN = list(NeedStatus).index(NeedStatus.UNMET)


def unmet_by_type(table: SuppressedTable) -> list[tuple[str, int | None]]:
    """The unmet column of `needs_table`, as suppressed there (so the two never disagree)."""
    return [(label, cells[UNMET_COLUMN]) for label, cells in zip(table.row_labels, table.cells, strict=True)]


# --- the quality of the help -----------------------------------------------------------------

QUALITY_GROUPS = {"type": _l("service type"), "provider": _l("provider")}
SATISFACTION = list(Satisfaction)
COMPLAINT_COLUMNS = [_l("complaint"), _l("no complaint")]


@dataclass(frozen=True)
class QualityReport:
    by: str
    satisfaction: SuppressedTable  # rows: groups; columns: satisfied, not satisfied, unsure
    complaints: SuppressedTable  # the same rows; columns: complaint, no complaint
    satisfied_share: list[Decimal | None]  # percent of each row's feedback, None when hidden
    complaint_share: list[Decimal | None]


def _shown_share(part: int | None, whole: int | None) -> Decimal | None:
    return None if part is None or whole is None else share(part, whole)


def _by_type(user: Actor, filters: VictimFilters) -> list[tuple[str, str, bool, int]]:
    """Feedback by group (service type or case updates), satisfaction and complaint, read from the
    counts the feedback keeps (vat.victims.feedback_counts)."""
    row = feedback_counts.counts.c
    keys = (row.grouping, row.satisfaction, row.complaint)
    found = [
        (str(group), str(said), bool(complained), int(n or 0))
        for group, said, complained, n in db.session.execute(
            select(*keys, func.sum(row.feedback))
            .where(*counts_conditions(user, filters, feedback_counts.counts))
            .group_by(*keys)
        )
        if n  # a row emptied by a change stays, and shows no group
    ]
    glass = glass_conditions(user, filters)
    if glass is not None:  # victims opened by breaking the glass: their own feedback
        for *key, n in db.session.execute(feedback_counts.summed(select(Victim.id).where(*glass))):
            found.append((str(key[-3]), str(key[-2]), bool(key[-1]), int(n)))
    return found


def _by_provider(user: Actor, filters: VictimFilters) -> list[tuple[str, str, bool, int]]:
    """Feedback on services by provider (free text as typed, so no kept counts: read from the
    rows), satisfaction and complaint."""
    provider = func.coalesce(Assistance.provider, "not recorded")
    found = db.session.execute(
        select(provider, Feedback.satisfaction, Feedback.complaint, func.count())
        .select_from(Feedback)
        .join(Assistance, Assistance.id == Feedback.assistance_id)
        .join(Victim, Victim.id == Feedback.victim_id)
        .where(*victim_conditions(user, filters, consented_only=False))
        .group_by(provider, Feedback.satisfaction, Feedback.complaint)
    )
    return [(str(group), str(said), bool(complained), int(n)) for group, said, complained, n in found]


def quality_report(user: Actor, filters: VictimFilters, *, by: str = "type") -> QualityReport:
    """The victims' feedback per service type (with a row for case updates) or per provider (the
    provider as typed on the service): how many were satisfied, not satisfied or unsure, and how
    many complained. By type it reads the counts the feedback keeps; by provider, free text that no
    kept row could key, it counts the feedback rows in reach as they are."""
    if by not in QUALITY_GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    counts: dict[tuple[str, str, bool], int] = {}
    for key, said, complained, n in _by_type(user, filters) if by == "type" else _by_provider(user, filters):
        counts[(key, said, complained)] = counts.get((key, said, complained), 0) + n
    keys = sorted({k for k, _, _ in counts})
    if by == "type":
        order = [t.value for t in ServiceType] + [CASE_UPDATES]
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    labels = [
        str(_l("case updates")) if k == CASE_UPDATES else vat_label(k) if by == "type" else k for k in keys
    ]

    def count(key: str, said: str | None = None, complained: bool | None = None) -> int:
        return sum(
            n
            for (k, s, c), n in counts.items()
            if k == key and (said is None or s == said) and (complained is None or c == complained)
        )

    satisfaction, complaints = suppress_sharing_row_totals(
        labels,
        (
            [vat_label(s.value) for s in SATISFACTION],
            [[count(k, s.value) for s in SATISFACTION] for k in keys],
        ),
        (
            [str(c) for c in COMPLAINT_COLUMNS],
            [[count(k, complained=True), count(k, complained=False)] for k in keys],
        ),
        threshold=_limit(user),
    )
    return QualityReport(
        by=by,
        satisfaction=satisfaction,
        complaints=complaints,
        satisfied_share=[
            _shown_share(cells[0], total)
            for cells, total in zip(satisfaction.cells, satisfaction.row_totals, strict=True)
        ],
        complaint_share=[
            _shown_share(cells[0], total)
            for cells, total in zip(complaints.cells, complaints.row_totals, strict=True)
        ],
    )


QUALITY_HEADER = [
    "satisfied",
    "not satisfied",
    "unsure",
    "feedback",
    "satisfied (%)",
    "complaints",
    "no complaint",
    "with a complaint (%)",
]


def quality_export_rows(report: QualityReport) -> list[list[Any]]:
    """One row per group and a total row; hidden cells read "suppressed"."""

    def show(value: Any) -> Any:
        return "suppressed" if value is None else value

    s, c = report.satisfaction, report.complaints
    rows = [
        [label, *map(show, s.cells[i]), show(s.row_totals[i]), show(report.satisfied_share[i])]
        + [*map(show, c.cells[i]), show(report.complaint_share[i])]
        for i, label in enumerate(s.row_labels)
    ]
    rows.append(
        ["total", *map(show, s.column_totals), show(s.grand_total)]
        + [show(_shown_share(s.column_totals[0], s.grand_total))]
        + [*map(show, c.column_totals), show(_shown_share(c.column_totals[0], c.grand_total))]
    )
    return rows
