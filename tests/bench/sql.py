"""The hand-written SQL the benchmarks measure the app against: the same aggregates, written out
as one would without the ORM, run through the bare driver."""

from __future__ import annotations

from typing import Any

from vat.victims.models import ServiceStatus, ServiceType


def _mark(backend: str, name: str) -> str:
    return f":{name}" if backend == "sqlite" else f"%({name})s"


def support_sql(backend: str, since: Any, countries: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """One row per victim: services by type and status, trust-fund money, recent contacts."""
    from vat.scale import COUNTRIES

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
d AS (
    SELECT p.case_code, sum(p.usd_minor) AS minor
    FROM ledger_posting p
    JOIN ledger_entry e ON e.id = p.entry_id
    LEFT JOIN ledger_entry o ON o.id = e.reverses_id
    JOIN ledger_account a ON a.id = p.account_id
    WHERE p.case_code IS NOT NULL AND a.type = 'expense'
      AND (CASE WHEN e.kind = 'reversal' THEN o.kind ELSE e.kind END) = 'victim_support'
    GROUP BY p.case_code),
paid AS (
    SELECT p.project_id, -sum(p.usd_minor) AS minor
    FROM ledger_posting p
    JOIN ledger_entry e ON e.id = p.entry_id
    LEFT JOIN ledger_entry o ON o.id = e.reverses_id
    JOIN ledger_account a ON a.id = p.account_id
    WHERE a.code = '1000' AND (CASE WHEN e.kind = 'reversal' THEN o.kind ELSE e.kind END) = 'disbursement'
    GROUP BY p.project_id),
listed AS (SELECT project_id, count(*) AS listed FROM ledger_project_beneficiary GROUP BY project_id),
pr AS (
    SELECT b.case_code, count(*) AS projects, sum(coalesce(paid.minor, 0) / listed.listed) AS minor
    FROM ledger_project_beneficiary b
    JOIN listed ON listed.project_id = b.project_id
    LEFT JOIN paid ON paid.project_id = b.project_id
    GROUP BY b.case_code),
c AS (
    SELECT victim_id, count(*) AS contacts FROM vat_communication
    WHERE occurred_on >= {_mark(backend, "since")} GROUP BY victim_id)
SELECT v.case_code, v.country_code, v.mission, v.sex, v.age_group, v.status, v.registered_on,
       coalesce(s.services, 0), {", ".join(counts)}, coalesce(s.delivered, 0), {days},
       coalesce(d.minor, 0), coalesce(pr.projects, 0), coalesce(pr.minor, 0), coalesce(s.funded_minor, 0),
       coalesce(c.contacts, 0), v.last_update_on,
       CASE WHEN coalesce(s.delivered, 0) > 0 OR coalesce(d.minor, 0) > 0 OR coalesce(pr.projects, 0) > 0
            THEN 1 ELSE 0 END
FROM vat_victim v
LEFT JOIN s ON s.victim_id = v.id
LEFT JOIN d ON d.case_code = v.case_code
LEFT JOIN pr ON pr.case_code = v.case_code
LEFT JOIN c ON c.victim_id = v.id
WHERE v.country_code IN ({places})
ORDER BY v.country_code, v.case_code"""  # noqa: S608 - constants only
    return sql, {"since": since}


def reconciliation_sql() -> str:
    """Per live withholding: withheld, transferred, last transfer, what the receivable says; then
    the three control accounts per currency."""
    return """
SELECT w.id, w.country_code, w.currency, w.decided_on, w.amount_minor,
       coalesce(t.paid, 0), t.last_on, coalesce(r.outstanding, 0)
FROM ledger_withholding w
LEFT JOIN (
    SELECT withholding_id, sum(amount_minor) AS paid, max(transferred_on) AS last_on
    FROM ledger_withholding_transfer
    WHERE entry_id IS NOT NULL
      AND entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)
    GROUP BY withholding_id) t ON t.withholding_id = w.id
LEFT JOIN (
    SELECT withholding_id, sum(amount_minor) AS outstanding FROM ledger_posting
    WHERE account_id = (SELECT id FROM ledger_account WHERE code = '1200')
    GROUP BY withholding_id) r ON r.withholding_id = w.id
WHERE w.entry_id IS NOT NULL
  AND w.entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)
UNION ALL
SELECT a.id, p.currency, NULL, NULL, sum(p.amount_minor), NULL, NULL, NULL
FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
WHERE a.code IN ('4100', '1200') OR (a.code = '1000' AND p.withholding_id IS NOT NULL)
GROUP BY a.id, p.currency"""


def fund_statement_sql(backend: str, start: Any, end: Any) -> tuple[str, dict[str, Any]]:
    """Income by donor and by withholding country, expenses by account, in the period and by
    month; the fund balance and cash before and at the end of the period."""
    month = "strftime('%Y-%m', e.entry_date)" if backend == "sqlite" else "to_char(e.entry_date, 'YYYY-MM')"
    s, e = _mark(backend, "start"), _mark(backend, "end")
    sql = f"""
SELECT a.code, p.donor_id, p.country_code, {month} AS month, sum(p.usd_minor)
FROM ledger_posting p
JOIN ledger_entry e ON e.id = p.entry_id
JOIN ledger_account a ON a.id = p.account_id
WHERE e.entry_date BETWEEN {s} AND {e} AND a.type IN ('revenue', 'expense')
GROUP BY a.code, p.donor_id, p.country_code, {month}
UNION ALL
SELECT a.type, NULL, NULL, CASE WHEN e.entry_date < {s} THEN 'before' ELSE 'end' END, sum(p.usd_minor)
FROM ledger_posting p
JOIN ledger_entry e ON e.id = p.entry_id
JOIN ledger_account a ON a.id = p.account_id
WHERE e.entry_date <= {e} AND (a.type IN ('revenue', 'expense') OR a.code = '1000')
GROUP BY a.type, CASE WHEN e.entry_date < {s} THEN 'before' ELSE 'end' END"""  # noqa: S608 - constants only
    return sql, {"start": start, "end": end}
