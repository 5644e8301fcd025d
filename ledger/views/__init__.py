"""The ledger's pages: one blueprint, a module per area."""

from ledger.views import (
    contributions,
    direct_support,
    envelopes,
    imports,
    overview,
    partner_reports,
    periods,
    projects,
    withholdings,
)
from ledger.views.blueprint import bp

__all__ = [
    "bp",
    "contributions",
    "direct_support",
    "envelopes",
    "imports",
    "overview",
    "partner_reports",
    "periods",
    "projects",
    "withholdings",
]
