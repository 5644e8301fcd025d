"""A form recorded on a parent record (a claim, an allegation, a victim's file): its GET shows the
form, prefilled, on the parent's record page; its POST records it through one service with `submit`
and goes on. `route_form` registers both from one row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Blueprint, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.plausibility import Usual, checked
from vat.submission import form_values, submit

P = TypeVar("P")
F = TypeVar("F", bound=FlaskForm)
Result = TypeVar("Result")


@dataclass(frozen=True)
class Parent(Generic[P]):
    """What the forms on one kind of record share: their blueprint, the record's URL (`url`, which
    names `<int:{name}_id>`), how a page loads it (404 outside the user's scope; `for_update` when
    the request changes it), the page that shows a form on it (with the record as `name`), and
    the record's own page (`page_url(record, anchor)`)."""

    bp: Blueprint
    name: str
    url: str
    load: Callable[[int, bool], P]
    template: str
    page_url: Callable[[P, str], str]
    refused_status: int = 422

    def show(self, form: FlaskForm, parent: P, **page: Any) -> str:
        return render_template(self.template, form=form, **{self.name: parent}, **page)

    def save(
        self,
        form: FlaskForm,
        parent: P,
        run: Callable[[], Result],
        *,
        done: str | Callable[[Result], str],
        then: Callable[[Result], str],
        refused_status: int | None = None,
        **page: Any,
    ) -> tuple[str, int] | Response:
        """The POST: a refusal shows the form again on the record's page, its message on its field."""
        return submit(
            form,
            run,
            done=done,
            then=then,
            template=self.template,
            refused_status=self.refused_status if refused_status is None else refused_status,
            **{self.name: parent},
            **page,
        )


def _nothing(_form: Any, _parent: Any) -> None:
    return None


def _no_more(_parent: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class FormOn(Generic[P, F]):
    """A form recorded on a parent: its GET shows `form_class` (`choices` set, then `prefill`ed),
    its POST records it through one service, flashes `done` and goes on to the parent's page at
    the anchor `then` (or to `then(parent, result)`). The service is `service`, called with the
    acting user, the parent (by the parent's name) and the form's values; or `record(form, parent)`
    where it needs more. Both pages show `title`, `button` and what `more` adds. A `prefill` that
    writes (audits an identity it shows) does so in `vat.submission.written_apart`."""

    path: str  # below the parent's URL
    title: Any  # lazy strings, translated as the page renders
    form_class: type[F]
    done: Any  # a (lazy) message, or a function of the parent that makes it
    then: str | Callable[[P, Any], str] = ""
    service: Callable[..., Any] | None = None
    record: Callable[[F, P], Any] | None = None
    button: Any = None
    prefill: Callable[[F, P], None] = _nothing
    choices: Callable[[F, P], None] = _nothing  # the options that depend on the parent
    more: Callable[[P], dict[str, Any]] = _no_more
    refused_status: int | None = None  # the parent's, unless given
    permission: Permission = Permission.EDIT_CASES
    usual: Callable[[F], tuple[Usual, str]] | None = None  # a money form: its kind and currency

    def form(self, parent: P) -> F:
        form = self.form_class()
        self.choices(form, parent)
        return form

    def run(self, kind: Parent[P], form: F, parent: P) -> Any:
        if self.record is not None:
            return self.record(form, parent)
        if self.service is None:
            raise TypeError(f"the form at {self.path} names no service")
        return self.service(
            actor=current_user, **{kind.name: parent}, **form_values(form, "amount_confirmed")
        )

    def page(self, parent: P) -> dict[str, Any]:
        return {"title": self.title, "submit": self.button, **self.more(parent)}

    def message(self, parent: P) -> str:
        return str(self.done(parent) if callable(self.done) else self.done)

    def next_page(self, kind: Parent[P], parent: P, result: Any) -> str:
        return self.then(parent, result) if callable(self.then) else kind.page_url(parent, self.then)


def route_form(kind: Parent[P], show: str, save: str, row: FormOn[P, Any]) -> None:
    """Register the GET (endpoint `<blueprint>.<show>`) and the POST (`<blueprint>.<save>`) of a
    form recorded on a parent, for those with the row's permission."""
    id_name = f"{kind.name}_id"

    def show_form(**ids: int) -> str:
        parent = kind.load(ids[id_name], False)
        form = row.form(parent)
        row.prefill(form, parent)
        return kind.show(form, parent, **row.page(parent))

    def save_form(**ids: int) -> tuple[str, int] | Response:
        parent = kind.load(ids[id_name], True)
        form = row.form(parent)
        run: Callable[[], Any] = lambda: row.run(kind, form, parent)  # noqa: E731
        return kind.save(
            form,
            parent,
            run if row.usual is None else checked(form, run, *row.usual(form)),
            done=lambda _result: row.message(parent),
            then=lambda result: row.next_page(kind, parent, result),
            refused_status=row.refused_status,
            **row.page(parent),
        )

    allowed = requires(row.permission)
    url = f"{kind.url}/{row.path}"
    kind.bp.add_url_rule(url, show, allowed(show_form), methods=["GET"])
    kind.bp.add_url_rule(url, save, allowed(save_form), methods=["POST"])
