"""Victims' feedback counted per cell of the support counts (country, mission, year of
registration, sex, age group), group (the service's type, or `CASE_UPDATES` for feedback on a case
update), satisfaction and complaint (`vat_feedback_count`), kept exact in the transaction of each
change, so that the quality report by service type reads a few rows instead of every feedback in
reach. One definition: `summed` groups the feedback in SQL. Feedback recorded, a service's type
changed and a victim's move call `recounting` around the change (the victims' counts before it
taken away, those after it added); `differences` and `rebuild` compare with and recompute from
every feedback (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Integer, Select, String, Table, func, select

from vat.db import Base
from vat.kept_counts import KeptCounts
from vat.victims import support_counts
from vat.victims.models import Assistance, Feedback, Victim

CASE_UPDATES = "case_updates"  # the group of feedback on a case update (a communication)
KEY = (*support_counts.KEY, "grouping", "satisfaction", "complaint")

counts = Table(
    "vat_feedback_count",
    Base.metadata,
    *support_counts.key_table_columns(),
    Column("grouping", String(20), primary_key=True),
    Column("satisfaction", String(20), primary_key=True),
    Column("complaint", Boolean, primary_key=True),
    Column("feedback", Integer, nullable=False),
)
KEPT = KeptCounts(counts, KEY, "feedback")


def summed(victim_ids: Any = None) -> Select[Any]:
    """The feedback (all, or that of `victim_ids`: a list or a SELECT of ids) counted per KEY."""
    keys = [
        *support_counts.key_columns(),
        func.coalesce(Assistance.service_type, CASE_UPDATES).label("grouping"),
        Feedback.satisfaction.label("satisfaction"),
        Feedback.complaint.label("complaint"),
    ]
    query = (
        select(*keys, func.count().label("feedback"))
        .select_from(Feedback)
        .join(Victim, Victim.id == Feedback.victim_id)
        .outerjoin(Assistance, Assistance.id == Feedback.assistance_id)
    )
    return support_counts.of_victims(query, Feedback.victim_id, victim_ids, keys)


NAME = "feedback counts"
# A change to victims, their services or their feedback recounts them with the victims' rows locked.
SUMMED = support_counts.kept_by_cell(NAME, KEPT, summed)
recounting = SUMMED.recounting

# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

differences = SUMMED.differences
rebuild = SUMMED.rebuild
