"""issue 14: the kept counts an upgrade left empty or short are recomputed from their source rows

1096 created the service tally empty, and 1100 brought the support summaries up to date with the
partners' lines without adding them to the summaries' sums per place (vat_victim_support_count),
so an upgraded database showed zeros on the assistance and referral reports and short headlines
until someone ran `flask figures rebuild`. Both are recomputed here, in SQL, exactly as `rebuild`
would (vat.victims.service_tally.counted, vat.victims.support_counts.summed): on a database whose
counts were already right this writes the same rows again. The other kept summaries (the ledger's
balances, the per-victim support summary) were filled by the migrations that made them.

The tally gains a second set of detail rows with every place added up (country "*"): a fund
manager's or an auditor's report filtered on the year registered, sex or minor alone read every
place's detail rows (272,775 of one facet at 100,000 victims); it reads these.
"""

from alembic import op

from migrations import schema

revision = "1120"
down_revision = "1111"

SUMMARY = "vat_victim_support_summary"
COUNTS = "vat_victim_support_count"
TALLY = "vat_service_tally"
STATUSES = ("referred", "in_progress", "completed", "declined", "not_available", "cancelled")
TYPES = schema.SERVICE_TYPES  # unchanged since the baseline
MONEY = ("direct_usd_minor", "project_usd_minor", "reported_usd_minor", "funded_usd_minor")
SUMMED = (*[f"status_{s}" for s in STATUSES], *[f"type_{t}" for t in TYPES], *MONEY)
CELL = ("country_code", "mission", "registered_year", "sex", "minor")
EVERYWHERE = "*"  # the country of the detail rows that add up every place
FACET = ("facet", "value", "provider_id", "service_type", "status", "wait", "days")


def _dialect():
    """(year of a date as an integer, year of a date as 4 digits, days between two dates)."""
    if op.get_bind().dialect.name == "postgresql":
        return (
            "CAST(EXTRACT(YEAR FROM {}) AS INTEGER)",
            "TO_CHAR({}, 'YYYY')",
            "({} - {})",
        )
    return (
        "CAST(STRFTIME('%Y', {}) AS INTEGER)",
        "STRFTIME('%Y', {})",
        "CAST(JULIANDAY({}) - JULIANDAY({}) AS INTEGER)",
    )


def _support_counts(year):
    sums = ", ".join(f"SUM(s.{n})" for n in SUMMED)
    key = f"v.country_code, COALESCE(v.mission, ''), {year.format('v.registered_on')}, v.sex, v.age_group"
    op.execute(f"DELETE FROM {COUNTS}")  # noqa: S608
    op.execute(
        f"INSERT INTO {COUNTS} (country_code, mission, year, sex, age_group, victims, {', '.join(SUMMED)},"  # noqa: S608
        " supported)"
        f" SELECT {key}, COUNT(*), {sums}, SUM(CASE WHEN s.supported THEN 1 ELSE 0 END)"
        f" FROM {SUMMARY} s JOIN vat_victim v ON v.id = s.victim_id GROUP BY {key}"
    )


def _facets():
    """Each service's facets (vat.victims.service_tally._facets) as rows of FACET, from `s`."""
    rows = []
    for facet, value, chosen in (
        ("type", "service_type", "0"),
        ("provider", "typed", "pid"),
        ("year", "referred", "0"),
    ):
        rows.append((f"'{facet}'", value, chosen, "''", "status", "''", "0", ""))
        for wait, days in (("start", "to_start"), ("end", "to_end")):
            rows.append((f"'{facet}'", value, "0", "''", "''", f"'{wait}'", days, f"{days} IS NOT NULL"))
    rows.append(
        ("'referral'", "typed", "pid", "service_type", "''", "'start'", "to_start",
         "to_start IS NOT NULL AND ledger_entry_id IS NULL")
    )  # fmt: skip
    rows.append(
        ("'gap'", "''", "pid", "service_type", "''", "''", "0",
         "status = 'not_available' OR (status = 'referred' AND provider IS NULL AND provider_id IS NULL)")
    )  # fmt: skip
    cell = ", ".join(CELL)
    return " UNION ALL ".join(
        f"SELECT {cell}, "
        + ", ".join(f"{value} AS {name}" for name, value in zip(FACET, row[:-1], strict=True))
        + " FROM s"
        + (f" WHERE {row[-1]}" if row[-1] else "")
        for row in rows
    )


def _service_tally(year, four_digits, days):
    services = f"""
        SELECT v.country_code AS country_code, COALESCE(v.mission, '') AS mission,
               {year.format("v.registered_on")} AS registered_year, v.sex AS sex,
               CASE WHEN v.age_group = 'minor' THEN TRUE ELSE FALSE END AS minor,
               a.service_type AS service_type, a.status AS status, a.provider AS provider,
               a.provider_id AS provider_id, COALESCE(a.provider, '') AS typed,
               COALESCE(a.provider_id, 0) AS pid, a.ledger_entry_id AS ledger_entry_id,
               COALESCE({four_digits.format("a.referral_date")}, '') AS referred,
               {days.format("a.start_date", "a.referral_date")} AS to_start,
               {days.format("a.end_date", "a.start_date")} AS to_end
        FROM vat_assistance a JOIN vat_victim v ON v.id = a.victim_id
    """
    # In the key's order (service_tally.rebuild's): a report reads a country's rows side by side.
    key = ", ".join(("facet", *CELL, *FACET[1:]))
    op.execute(f"DELETE FROM {TALLY}")  # noqa: S608
    op.execute(
        f"WITH s AS ({services}), f AS ({_facets()})"  # noqa: S608
        f" INSERT INTO {TALLY} (detail, {key}, services)"
        f" SELECT TRUE, {key}, COUNT(*) FROM f GROUP BY {key} ORDER BY {key}"
    )
    # Total rows leave the year registered, sex and minor out: the detail rows added up.
    total = ", ".join(("facet", "country_code", "mission", *FACET[1:]))
    op.execute(
        f"INSERT INTO {TALLY} (detail, registered_year, sex, minor, {total}, services)"  # noqa: S608
        f" SELECT FALSE, 0, '', FALSE, {total}, SUM(services) FROM {TALLY} WHERE detail"
        f" GROUP BY {total} ORDER BY {total}"
    )
    # The detail rows with every place added up (service_tally.EVERYWHERE), from the same rows.
    everywhere = ", ".join(("facet", "registered_year", "sex", "minor", *FACET[1:]))
    op.execute(
        f"INSERT INTO {TALLY} (detail, country_code, mission, {everywhere}, services)"  # noqa: S608
        f" SELECT TRUE, '{EVERYWHERE}', '', {everywhere}, SUM(services) FROM {TALLY}"
        f" WHERE detail AND country_code <> '{EVERYWHERE}' GROUP BY {everywhere} ORDER BY {everywhere}"
    )


def upgrade():
    year, four_digits, days = _dialect()
    _support_counts(year)
    _service_tally(year, four_digits, days)


def downgrade():
    """Nothing to undo: the counts stay right, as the app keeps them."""
