"""Changing the accountability cycle's limits (vat_cycle_rule), as the clock's limits are changed
(vat.allegations.services.update_rule): a policy set later needs no release. Which step a limit
counts from is the cycle's shape and stays as seeded; the length, the personnel it applies to and
whether only substantiated allegations are held to it are data."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from vat import audit
from vat.allegations import cycle_counts
from vat.allegations.clock import rule_to_change
from vat.allegations.cycle_models import CycleRule
from vat.allegations.models import PersonnelCategory
from vat.auth.actor import Actor
from vat.inputs import InvalidField


def update_cycle_rule(
    *,
    actor: Actor,
    step: str,
    amount: int,
    unit: str,
    applies_to: Sequence[str],
    substantiated_only: bool,
) -> CycleRule:
    rule = rule_to_change(CycleRule, step, amount, unit)
    known = {c.value for c in PersonnelCategory}
    unknown = sorted(set(applies_to) - known)
    if unknown:
        raise InvalidField("applies_to", _l("Choose personnel categories from the list."))
    categories = ",".join(c.value for c in PersonnelCategory if c.value in set(applies_to))
    before = _values(rule)
    rule.amount, rule.unit = amount, unit
    rule.applies_to, rule.substantiated_only = categories, substantiated_only
    cycle_counts.recount_step(step)
    change = {"before": before, "after": _values(rule)}
    audit.record("cycle_rule.update", actor=actor, object_type="cycle_rule", object_id=step, detail=change)
    return rule


def _values(rule: CycleRule) -> dict[str, object]:
    return {
        "amount": rule.amount,
        "unit": rule.unit,
        "applies_to": rule.applies_to,
        "substantiated_only": rule.substantiated_only,
    }
