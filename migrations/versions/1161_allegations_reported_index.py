"""issue 14: the UN report's allegations read from one index, not the allegations' table

The UN report (vat.reports.un_report, un_followup) reads the allegations four times a view: the
period's rows for its tables and measures, the period's ids for the victims named, each action's
allegation for the persons table, and every allegation received by the period's end for the
earlier years' tables (15,653 of the 20,000 at 100,000 victims, for 2026). The statistics page
(and with it the figures pack) reads the period's allegations by category, type, sub-type,
investigator, status, outcome, mission and personnel. With no index on the day received, each
was a scan of the allegations' wide rows (narratives, references, timestamps). An index on the
day received holding every column those statements read (the place, the dates, the status,
outcome and investigator, the personnel and their number, the category, type and sub-type) is
read alone: the period's rows are a range of it, the earlier years' a scan of it. The figures
are the same rows'.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1154.
"""

from migrations import schema

revision = "1161"
down_revision = "1160"

INDEXES = {
    "ix_vat_allegation_received_on": (
        "vat_allegation",
        [
            "received_on",
            "country_code",
            "mission",
            "outcome",
            "investigation_status",
            "investigating_entity",
            "perpetrator_country",
            "investigation_completed_on",
            "report_submitted_on",
            "personnel_category",
            "perpetrators",
            "referred_on",
            "entity_category",
            "type",
            "sub_type",
        ],
    ),
}


def upgrade():
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned("vat_allegation")


def downgrade():
    schema.drop_named_indexes(INDEXES)
