"""The victims blueprint: parse, call one service, commit once, redirect. Scope is applied by the
services' queries; an id outside the user's scope answers 404. Each page's module registers its
routes on the blueprint as it is imported."""

from vat.victims.views import cases, consents, dashboard, letters, needs, records, retention
from vat.victims.views.blueprint import bp

__all__ = ["bp", "cases", "consents", "dashboard", "letters", "needs", "records", "retention"]
