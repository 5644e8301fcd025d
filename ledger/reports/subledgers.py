"""Each sub-ledger's open total, from its records, set against its control account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from ledger import engine
from ledger.balances import balances, summed
from ledger.engine import GRANTS_PAYABLE, PLEDGES_RECEIVABLE, WITHHELD_RECEIVABLE, from_minor
from ledger.models import Pledge, Project, Receipt, Tranche, Withholding
from ledger.services.booking import standing, stands
from vat.db import db


def subledger_checks() -> list[dict[str, Any]]:
    """Open totals computed from the sub-ledger records (not from postings), per currency, set
    against the balance of each control account in that currency. Each sum reads an index that
    holds every column it needs (ledger.models, migration 1153), not every record's row."""
    checks = []
    kept = balances()

    def compare(name: str, account: str, records: dict[str, int], sign: int) -> None:
        control: dict[str, int] = dict(
            db.session.execute(
                select(kept.c.currency, summed(kept.c.amount_minor))
                .where(kept.c.account_id == engine.account_id(account))
                .group_by(kept.c.currency)
            ).all()
        )
        for currency in sorted(set(records) | {c for c, v in control.items() if v}):
            open_total = from_minor(records.get(currency, 0), currency)
            ledger_total = from_minor(sign * (control.get(currency) or 0), currency)
            checks.append(
                {
                    "name": name,
                    "account": account,
                    "currency": currency,
                    "subledger": open_total,
                    "control": ledger_total,
                    "difference": open_total - ledger_total,
                }
            )

    def sums(query: Select[str, int]) -> dict[str, int]:
        return {currency: int(total or 0) for currency, total in db.session.execute(query)}

    def net(plus: dict[str, int], minus: dict[str, int]) -> dict[str, int]:
        return {c: plus.get(c, 0) - minus.get(c, 0) for c in set(plus) | set(minus)}

    pledged = sums(
        standing(select(Pledge.currency, func.sum(Pledge.amount_minor)), Pledge).group_by(Pledge.currency)
    )
    received = sums(
        standing(select(Receipt.currency, func.sum(Receipt.amount_minor)), Receipt)
        .where(Receipt.pledge_id.is_not(None))
        .group_by(Receipt.currency)
    )
    compare("pledges", PLEDGES_RECEIVABLE, net(pledged, received), 1)

    # What the standing withholdings hold, less what every withholding's standing transfers brought
    # in (kept on its row: ledger.withheld_transferred), in one pass over the withholdings.
    withheld = select(
        Withholding.currency,
        func.sum(case((stands(Withholding), Withholding.amount_minor), else_=0))
        - func.sum(Withholding.transferred_minor),
    ).group_by(Withholding.currency)
    compare("withholdings", WITHHELD_RECEIVABLE, sums(withheld), 1)

    live_projects = standing(select(Project.id), Project)
    committed = sums(
        standing(
            select(Project.currency, func.sum(Project.approved_minor - Project.released_minor)), Project
        ).group_by(Project.currency)
    )
    disbursed = sums(
        standing(select(Project.currency, func.sum(Tranche.amount_minor)), Tranche)
        .join(Project, Project.id == Tranche.project_id)
        .where(Tranche.status == "posted", Tranche.project_id.in_(live_projects))
        .group_by(Project.currency)
    )
    grants = net(committed, disbursed)
    compare("grant commitments", GRANTS_PAYABLE, grants, -1)
    return checks
