"""What is recorded for a victim: assistance, children and communications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from flask import request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.auth.policy import Permission, requires
from vat.plausibility import Usual, checked
from vat.submission import text, written_apart
from vat.victims import assistance, family, identity, outcomes, providers
from vat.victims.forms import AssistanceForm, ChildForm, CommunicationForm, provider_choices
from vat.victims.models import Assistance, Child, Victim
from vat.victims.views.blueprint import VICTIM, bp, load_victim, on_file, record_on_file
from vat.victims.views.consent_return import MissingConsents, kept_values

R = TypeVar("R", Assistance, Child)


@dataclass(frozen=True)
class OnFile(Generic[R]):
    """A kind of record kept on a victim's file, which has the same four pages as any other:
    new and create, edit (an audited read) and update."""

    name: str  # the endpoints' suffix (new_<name>, ...) and what the read audit row names
    path: str  # the URL segment below the victim
    id_name: str  # the record's id in the URL
    model: type[R]
    form: Callable[..., FlaskForm]  # called with the victim (and the record's values)
    add: Callable[..., object]
    update: Callable[[R], Callable[..., object]]  # the update service, bound to the record
    anchor: str
    new_title: LazyString
    edit_title: LazyString
    added: LazyString
    updated: LazyString
    refused_status: int = 422
    # A record with a cost: the kind of that amount for the form's values, and the form's fields
    # that hold the amount and its currency (vat.plausibility).
    usual: Callable[[FlaskForm], Usual] | None = None


def priced(
    kind: OnFile[Any], form: FlaskForm, record: Callable[..., object], was: object = None
) -> Callable[..., object]:
    """`record`, once the form's cost is usual for its kind or confirmed as right; an edit that
    keeps the record's (`was`) cost and currency asks nothing again."""
    if kind.usual is None or (
        was is not None
        and getattr(was, "cost", None) == form["cost"].data
        and getattr(was, "currency", None) == text(form["currency"]).upper()
    ):
        return record
    usual = kind.usual

    def run(**values: Any) -> object:
        values.pop("amount_confirmed", None)
        return checked(form, lambda: record(**values), usual(form), text(form["currency"]), field="cost")()

    return run


def assistance_form(victim: Victim, **data: Any) -> AssistanceForm:
    """The service form, offering the directory's providers of the victim's country."""
    form = AssistanceForm(**data)
    form.provider_id.choices = provider_choices(providers.directory(country_code=victim.country_code))
    return form


def _record_pages(kind: OnFile[Any]) -> None:
    """Route the four pages of one kind of record."""

    def new(victim_id: int) -> str:
        victim = load_victim(victim_id)
        kept = kept_values()  # back from recording a missing consent: what was typed
        form = kind.form(victim) if kept is None else kind.form(victim, formdata=kept)
        return VICTIM.show(form, victim, title=kind.new_title)

    def create(victim_id: int) -> Response | tuple[str, int]:
        victim = load_victim(victim_id)
        missing = MissingConsents(victim)
        form = kind.form(victim)
        answer = record_on_file(
            victim,
            form,
            priced(kind, form, missing.checking(kind.add)),
            done=str(kind.added),
            anchor=kind.anchor,
            title=str(kind.new_title),
            refused_status=kind.refused_status,
            missing_consents=missing,
        )
        missing.settle(answer)
        return answer

    def edit(victim_id: int, **ids: int) -> str:
        victim = load_victim(victim_id)
        record = on_file(victim, kind.model, ids[kind.id_name])
        with written_apart():
            identity.record_read(actor=current_user, victim=victim, what=kind.name, record_id=record.id)
        return VICTIM.show(kind.form(victim, obj=record), victim, title=kind.edit_title)

    def update(victim_id: int, **ids: int) -> Response | tuple[str, int]:
        victim = load_victim(victim_id)
        form, record = kind.form(victim), on_file(victim, kind.model, ids[kind.id_name])
        return record_on_file(
            victim,
            form,
            priced(kind, form, kind.update(record), was=record),
            done=str(kind.updated),
            anchor=kind.anchor,
            title=str(kind.edit_title),
            refused_status=kind.refused_status,
        )

    many = f"/victims/<int:victim_id>/{kind.path}"
    one = f"{many}/<int:{kind.id_name}>"
    allowed = requires(Permission.EDIT_CASES)
    bp.add_url_rule(f"{many}/new", f"new_{kind.name}", allowed(new), methods=["GET"])
    bp.add_url_rule(f"{many}/new", f"create_{kind.name}", allowed(create), methods=["POST"])
    bp.add_url_rule(one, f"edit_{kind.name}", allowed(edit), methods=["GET"])
    bp.add_url_rule(one, f"update_{kind.name}", allowed(update), methods=["POST"])


_record_pages(
    OnFile(
        name="assistance",
        path="assistance",
        id_name="service_id",
        model=Assistance,
        form=assistance_form,
        add=assistance.record_assistance,
        update=lambda service: partial(assistance.update_assistance, service=service),
        anchor="services",
        new_title=_l("Record a service"),
        edit_title=_l("Update a service"),
        added=_l("Service recorded."),
        updated=_l("Service updated."),
        refused_status=200,  # the form is shown again as it always was
        usual=lambda form: assistance.usual_costs(str(form["service_type"].data)),
    )
)
_record_pages(
    OnFile(
        name="child",
        path="children",
        id_name="child_id",
        model=Child,
        form=lambda _victim, **data: ChildForm(**data),
        add=family.add_child,
        update=lambda child: partial(family.update_child, child=child),
        anchor="children",
        new_title=_l("Record a child"),
        edit_title=_l("Update a child"),
        added=_l("Child recorded."),
        updated=_l("Child updated."),
    )
)


def _task_choices(form: CommunicationForm, victim: Victim) -> None:
    """The form offers the victim's open tasks (informing of an outcome) to close, if any."""
    open_tasks = [t for t in victim.tasks if t.closed_at is None]
    form.closes_tasks.choices = [SelectChoice(t.id, outcomes.task_label(t)) for t in open_tasks]
    if not open_tasks:
        del form.closes_tasks


def _prefill_communication(form: CommunicationForm, victim: Victim) -> None:
    form.by_whom.data = current_user.username
    closes = request.args.get("closes", "")
    if closes.isdigit() and int(closes) in {t.id for t in victim.tasks if t.closed_at is None}:
        form.closes_tasks.data, form.case_update_given.data = [int(closes)], True  # from the letter page


def _log_communication(**values: Any) -> object:
    """The service, called with the form's values: the tasks ticked are the tasks it closes."""
    closes = values.pop("closes_tasks", None)
    return family.log_communication(closes_task_ids=closes or (), **values)


def _communication_form(victim: Victim, **data: Any) -> CommunicationForm:
    form = CommunicationForm(**data)
    _task_choices(form, victim)
    return form


NEW_COMMUNICATION = _l("Record a communication")


@bp.get("/victims/<int:victim_id>/communications/new", endpoint="new_communication")
@requires(Permission.EDIT_CASES)
def new_communication(victim_id: int) -> str:
    victim = load_victim(victim_id)
    kept = kept_values()  # back from recording the consent to contact: what was typed
    if kept is not None:
        return VICTIM.show(_communication_form(victim, formdata=kept), victim, title=NEW_COMMUNICATION)
    form = _communication_form(victim)
    _prefill_communication(form, victim)
    return VICTIM.show(form, victim, title=NEW_COMMUNICATION)


@bp.post("/victims/<int:victim_id>/communications/new", endpoint="create_communication")
@requires(Permission.EDIT_CASES)
def create_communication(victim_id: int) -> Response | tuple[str, int]:
    """A communication needs the victim's consent to contact: without it, the page offers to record
    it and to come back with what was typed, as the service form does."""
    victim = load_victim(victim_id)
    missing = MissingConsents(victim)
    answer = record_on_file(
        victim,
        _communication_form(victim),
        missing.checking(_log_communication),
        done=str(_l("Communication recorded.")),
        anchor="communications",
        title=str(NEW_COMMUNICATION),
        missing_consents=missing,
    )
    missing.settle(answer)
    return answer
