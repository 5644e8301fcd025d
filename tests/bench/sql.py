"""The hand-written SQL the benchmarks measure the app against: the same aggregates, written out
as one would without the ORM, run through the bare driver."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from vat.victims.models import ServiceStatus, ServiceType


def placeholder(backend: str, name: str) -> str:
    """How the bare driver of `backend` names the parameter `name` in a statement."""
    return f":{name}" if backend == "sqlite" else f"%({name})s"


def bind(backend: str, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters `sql` names, as the bare driver takes them (days as ISO text for SQLite)."""
    return {
        name: value.isoformat() if backend == "sqlite" and isinstance(value, date) else value
        for name, value in params.items()
        if placeholder(backend, name) in sql
    }


def ageing_limits(today: date) -> dict[str, date]:
    """The parameters of `reconciliation_sql`: the earliest decision day of each ageing bucket but
    the last, as at `today`."""
    from ledger.reports.withheld import AGEING_BUCKETS

    limits = [today - timedelta(days=high) for _, high, _ in AGEING_BUCKETS if high is not None]
    return dict(zip(("young", "middle", "old"), limits, strict=True))


def support_sql(backend: str, since: Any, countries: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """One row per victim: services by type and status, trust-fund money, recent contacts."""
    from seeding.scale_plan import COUNTRIES

    countries = countries or [c for c, _ in COUNTRIES]
    types = [
        f"sum(CASE WHEN service_type = '{t.value}' THEN 1 ELSE 0 END) AS type_{t.value}" for t in ServiceType
    ]
    statuses = [
        f"sum(CASE WHEN status = '{s.value}' THEN 1 ELSE 0 END) AS status_{s.value}" for s in ServiceStatus
    ]
    counts = [f"coalesce(s.type_{t.value}, 0)" for t in ServiceType] + [
        f"coalesce(s.status_{s.value}, 0)" for s in ServiceStatus
    ]
    if backend == "sqlite":
        days = "CAST(julianday(s.first_start) - julianday(s.first_referral) AS INTEGER)"
    else:
        days = "(s.first_start - s.first_referral)"
    places = ", ".join(f"'{c}'" for c in countries)
    sql = f"""
WITH s AS (
    SELECT victim_id, count(*) AS services, {", ".join(types)}, {", ".join(statuses)},
           sum(CASE WHEN status IN ('in_progress', 'completed') THEN 1 ELSE 0 END) AS delivered,
           min(referral_date) AS first_referral, min(start_date) AS first_start,
           sum(CASE WHEN funding_source IN ('trust_fund_project', 'direct_trust_fund')
                     AND ledger_entry_id IS NULL AND currency = 'USD' THEN cost ELSE 0 END) AS funded_minor
    FROM vat_assistance GROUP BY victim_id),
f AS (
    SELECT victim_id,
           sum(CASE WHEN source = 'direct' THEN usd_minor ELSE 0 END) AS direct_minor,
           count(DISTINCT project_id) AS projects,
           sum(CASE WHEN source = 'project' THEN usd_minor ELSE 0 END) AS project_minor
    FROM vat_fund_payment WHERE NOT reversed GROUP BY victim_id),
c AS (
    SELECT victim_id, count(*) AS contacts FROM vat_communication
    WHERE occurred_on >= {placeholder(backend, "since")} GROUP BY victim_id)
SELECT v.case_code, v.country_code, v.mission, v.sex, v.age_group, v.status, v.registered_on,
       coalesce(s.services, 0), {", ".join(counts)}, coalesce(s.delivered, 0), {days},
       coalesce(f.direct_minor, 0), coalesce(f.projects, 0), coalesce(f.project_minor, 0),
       coalesce(s.funded_minor, 0), coalesce(c.contacts, 0), v.last_update_on,
       CASE WHEN coalesce(s.delivered, 0) > 0 OR f.victim_id IS NOT NULL THEN 1 ELSE 0 END
FROM vat_victim v
LEFT JOIN s ON s.victim_id = v.id
LEFT JOIN f ON f.victim_id = v.id
LEFT JOIN c ON c.victim_id = v.id
WHERE v.country_code IN ({places})
ORDER BY v.country_code, v.case_code"""  # noqa: S608 - constants only
    return sql, {"since": since}


LIVE_W = """w.entry_id IS NOT NULL
  AND w.entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)"""
LIVE_TRANSFERS = """(
    SELECT withholding_id, sum(amount_minor) AS paid, max(transferred_on) AS last_on
    FROM ledger_withholding_transfer
    WHERE entry_id IS NOT NULL
      AND entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)
    GROUP BY withholding_id) t ON t.withholding_id = w.id"""
EFFECTIVE_KIND = "(CASE WHEN e.kind = 'reversal' THEN o.kind ELSE e.kind END)"


def _account(code: str) -> str:
    return f"(SELECT id FROM ledger_account WHERE code = '{code}')"


def reconciliation_sql(backend: str) -> list[str]:
    """What the withheld-payments page shows: every live withholding with what its live transfers
    brought in, the last transfer, the receivable's balance and its ageing bucket, outstanding ones
    first; the same grouped by country, currency and bucket (the country table, the ageing, the
    totals); the three control accounts per currency. Parameters: the limits of the first three
    ageing buckets (`young`, `middle`, `old`: the earliest decision day in each)."""
    young, middle, old = (placeholder(backend, name) for name in ("young", "middle", "old"))
    bucket = f"""CASE WHEN w.decided_on >= {young} THEN 0 WHEN w.decided_on >= {middle} THEN 1
            WHEN w.decided_on >= {old} THEN 2 ELSE 3 END"""
    lines = f"""
SELECT w.id, w.allegation_ref, w.country_code, w.currency, w.decided_on, w.amount_minor,
       coalesce(t.paid, 0), t.last_on, coalesce(r.outstanding, 0), {bucket}
FROM ledger_withholding w
LEFT JOIN {LIVE_TRANSFERS}
LEFT JOIN (
    SELECT withholding_id, sum(amount_minor) AS outstanding FROM ledger_posting
    WHERE account_id = {_account("1200")}
    GROUP BY withholding_id) r ON r.withholding_id = w.id
WHERE {LIVE_W}
ORDER BY CASE WHEN w.amount_minor - coalesce(t.paid, 0) > 0 THEN 0 ELSE 1 END, w.decided_on, w.id"""  # noqa: S608 - constants only
    by_country = f"""
SELECT w.country_code, w.currency, {bucket}, count(*), sum(w.amount_minor), sum(coalesce(t.paid, 0)),
       min(CASE WHEN w.amount_minor <> coalesce(t.paid, 0) THEN w.decided_on END)
FROM ledger_withholding w
LEFT JOIN {LIVE_TRANSFERS}
WHERE {LIVE_W}
GROUP BY w.country_code, w.currency, {bucket}"""  # noqa: S608 - constants only
    accounts = """
SELECT p.account_id, p.currency, sum(p.amount_minor)
FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
WHERE a.code IN ('4100', '1200') OR (a.code = '1000' AND p.withholding_id IS NOT NULL)
GROUP BY p.account_id, p.currency"""
    return [lines, by_country, accounts]


def fund_statement_sql(backend: str) -> list[str]:
    """What the fund statement shows, for [`start`, `end`] (parameters, with `today`): in one pass
    over the postings to `end`, each fund-balance account and cash per month of the period and
    before it (contributions also per donor, withheld income also per country); pledged, received
    and outstanding per donor and withheld, transferred and outstanding per country as at `end`
    (reversals under the kind they reverse); every project approved by `end` with its money, the
    victims it lists and whether it is behind schedule; the donors' names."""
    month = "strftime('%Y-%m', e.entry_date)" if backend == "sqlite" else "to_char(e.entry_date, 'YYYY-MM')"
    start, end, today = (placeholder(backend, name) for name in ("start", "end", "today"))
    period = f"""
SELECT p.account_id,
       CASE WHEN p.account_id = {_account("4000")} THEN p.donor_id END,
       CASE WHEN p.account_id = {_account("4100")} THEN p.country_code END,
       CASE WHEN e.entry_date >= {start} THEN {month} END,
       sum(p.usd_minor)
FROM ledger_posting p
JOIN ledger_entry e ON e.id = p.entry_id
WHERE e.entry_date <= {end}
  AND p.account_id IN (
      SELECT id FROM ledger_account WHERE type IN ('revenue', 'expense', 'net_assets') OR code = '1000')
GROUP BY 1, 2, 3, 4"""  # noqa: S608 - constants only

    def as_at_end(
        group: str, where: str, receivable: str, origin: str, settlement: str, join: str = ""
    ) -> str:
        return f"""
SELECT {group},
       sum(CASE WHEN p.account_id = {_account(receivable)} AND {EFFECTIVE_KIND} = '{origin}'
                THEN p.usd_minor ELSE 0 END),
       sum(CASE WHEN p.account_id = {_account("1000")} AND {EFFECTIVE_KIND} = '{settlement}'
                THEN p.usd_minor ELSE 0 END),
       sum(CASE WHEN p.account_id = {_account(receivable)} THEN p.usd_minor ELSE 0 END)
FROM ledger_posting p
JOIN ledger_entry e ON e.id = p.entry_id
LEFT JOIN ledger_entry o ON o.id = e.reverses_id{join}
WHERE e.entry_date <= {end} AND {where}
  AND p.account_id IN (SELECT id FROM ledger_account WHERE code IN ('{receivable}', '1000'))
GROUP BY {group}
ORDER BY {group}"""  # noqa: S608 - constants only

    donor = "\nJOIN ledger_donor d ON d.id = p.donor_id"
    pledges = as_at_end("d.name", "p.donor_id IS NOT NULL", "1100", "pledge", "receipt", donor)
    withheld = as_at_end(
        "p.country_code", "p.withholding_id IS NOT NULL", "1200", "withholding", "withheld_transfer"
    )
    projects = f"""
SELECT pr.title, pr.partner, pr.country_code, pr.focus, pr.status, pr.planned_start, pr.planned_end,
       pr.actual_start, pr.actual_end, coalesce(m.approved, 0), coalesce(m.disbursed, 0),
       coalesce(m.remaining, 0), coalesce(l.paid, 0),
       CASE WHEN pr.status NOT IN ('completed', 'cancelled')
             AND ((pr.actual_start IS NULL AND pr.planned_start < {today}) OR pr.planned_end < {today})
            THEN 1 ELSE 0 END
FROM ledger_project pr
LEFT JOIN (
    SELECT p.project_id,
           -sum(CASE WHEN p.account_id = {_account("2000")} AND {EFFECTIVE_KIND} = 'grant_approval'
                     THEN p.usd_minor ELSE 0 END) AS approved,
           -sum(CASE WHEN p.account_id = {_account("1000")} AND {EFFECTIVE_KIND} = 'disbursement'
                     THEN p.usd_minor ELSE 0 END) AS disbursed,
           -sum(CASE WHEN p.account_id = {_account("2000")} THEN p.usd_minor ELSE 0 END) AS remaining
    FROM ledger_posting p
    JOIN ledger_entry e ON e.id = p.entry_id
    LEFT JOIN ledger_entry o ON o.id = e.reverses_id
    WHERE p.project_id IS NOT NULL AND e.entry_date <= {end}
    GROUP BY p.project_id) m ON m.project_id = pr.id
LEFT JOIN (
    SELECT pp.project_id, count(DISTINCT pp.case_code) AS paid
    FROM ledger_project_payment pp JOIN ledger_tranche t ON t.id = pp.tranche_id
    WHERE t.paid_on <= {end} AND pp.entry_id IS NOT NULL
      AND pp.entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)
    GROUP BY pp.project_id) l ON l.project_id = pr.id
WHERE pr.approved_on <= {end}
ORDER BY pr.approved_on, pr.id"""  # noqa: S608 - constants only
    donors = "SELECT id, name FROM ledger_donor ORDER BY name"
    return [period, pledges, withheld, projects, donors]
