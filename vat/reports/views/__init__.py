"""The reports blueprint: each page's module registers its routes on it as it is imported."""

from vat.reports.views import (
    assistance,
    claims,
    clock,
    fund,
    jobs,
    landing,
    member_states,
    quality,
    referrals,
    statistics,
    un_report,
    victims,
    withholdings,
)
from vat.reports.views.blueprint import bp

__all__ = [
    "assistance",
    "bp",
    "claims",
    "clock",
    "fund",
    "jobs",
    "landing",
    "member_states",
    "quality",
    "referrals",
    "statistics",
    "un_report",
    "victims",
    "withholdings",
]
