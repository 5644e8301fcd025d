"""Names of the chart of accounts and of member-state donors in the reader's language. Both are
stored with an English name (the migration seeds the accounts; a state's donor row keeps
pycountry's name as the key that finds it again); pages show the name for the code, translated."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ledger import engine
from ledger.models import Donor
from vat.inputs import country_label

ACCOUNT_NAMES: dict[str, Any] = {
    engine.CASH: _l("Cash at bank"),
    engine.PLEDGES_RECEIVABLE: _l("Pledges receivable"),
    engine.WITHHELD_RECEIVABLE: _l("Withheld amounts receivable"),
    engine.GRANTS_PAYABLE: _l("Grants payable to partners"),
    engine.FUND_BALANCE: _l("Fund balance"),
    engine.CONTRIBUTIONS: _l("Voluntary contributions"),
    engine.WITHHELD_INCOME: _l("Withheld payments income"),
    engine.EXCHANGE_DIFFERENCES: _l("Realised exchange differences"),
    engine.ROUNDING: _l("Currency rounding"),
    engine.GRANT_EXPENSE: _l("Project grants"),
    engine.VICTIM_SUPPORT: _l("Direct support to victims"),
    engine.PROGRAMME_SUPPORT: _l("Programme support cost"),
}
ACCOUNT_TYPES: dict[str, Any] = {
    "asset": _l("asset"),
    "liability": _l("liability"),
    "net_assets": _l("net assets"),
    "revenue": _l("revenue"),
    "expense": _l("expense"),
}


def account_name(code: str, stored: str = "") -> str:
    """The account's name in the reader's language (the stored name for an account added later)."""
    return str(ACCOUNT_NAMES.get(code, stored or code))


def account_type(kind: str) -> str:
    return str(ACCOUNT_TYPES.get(kind, kind.replace("_", " ")))


def donor_name(donor: Donor) -> str:
    """A member state named in the reader's language (Norvège); another donor as written."""
    return country_label(donor.country_code) if donor.country_code else donor.name
