"""The accountability cycle's limits, on the allegations blueprint: read by those who read the
cycle, changed by those who set policy (like the clock's rules, vat.allegations.views)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.allegations.cycle import CLOCK_STEPS, rules
from vat.allegations.cycle_forms import CycleRuleForm
from vat.allegations.cycle_models import CycleRule
from vat.allegations.cycle_rules import update_cycle_rule
from vat.allegations.views import bp
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import act, or_404
from vat.victims.labels import cycle_step_label

PAGE = "vat/allegations/cycle_rules.html"


def _form(rule: CycleRule) -> CycleRuleForm:
    form = CycleRuleForm(prefix=rule.step)
    if request.method == "GET":
        form.amount.data, form.unit.data = rule.amount, rule.unit
        form.applies_to.data = [c for c in rule.applies_to.split(",") if c]
        form.substantiated_only.data = rule.substantiated_only
    return form


def _page(rule_list: list[CycleRule], forms: dict[str, CycleRuleForm]) -> str:
    return render_template(PAGE, rules=rule_list, forms=forms, step_names=CLOCK_STEPS)


@bp.get("/cycle-rules")
@requires(Permission.VIEW_IDENTITY)
def cycle_rules() -> str:
    rule_list = rules()
    return _page(rule_list, {r.step: _form(r) for r in rule_list})


@bp.post("/cycle-rules/<cycle_step>")
@requires(Permission.EDIT_POLICY)
def update_cycle_rule_view(cycle_step: str) -> Response | tuple[str, int]:
    step = cycle_step
    form = _form(or_404(db.session.get(CycleRule, step)))
    if not form.validate_on_submit():
        rule_list = rules()
        forms = {r.step: form if r.step == step else _form(r) for r in rule_list}
        return _page(rule_list, forms), 400
    return act(
        lambda: update_cycle_rule(
            actor=current_user,
            step=step,
            amount=int(form.amount.data or 0),
            unit=form.unit.data or "",
            applies_to=form.applies_to.data or [],
            substantiated_only=bool(form.substantiated_only.data),
        ),
        done=_("Limit for “%(step)s” updated; every cycle uses it from now on.", step=cycle_step_label(step)),
        back=url_for("allegations.cycle_rules"),
    )
