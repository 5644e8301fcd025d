"""A record's own form page (an allegation, a victim, a provider), to create the record and to edit
it: one template, one form, one service for each, and `submit`'s handling of the POST.
`RecordForm.route` registers the four routes (new, create, edit, update) from one declaration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Blueprint, render_template
from flask_babel import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.submission import form_values, submit

R = TypeVar("R")
F = TypeVar("F", bound=FlaskForm)


@dataclass(frozen=True)
class RecordForm(Generic[R, F]):
    """The page shows `template` with the form and the record as `name` (None while it is new).
    `form(record)` makes the form with its choices, for a new record (None) or the one edited;
    `page_form(record)` the form the page's GET shows, filled (`form`'s when not given; one that
    writes, auditing an identity it shows, does so in `vat.submission.written_apart`). A save
    calls `create`, or `update` with the record as `name`, with the acting user and the form's
    values (less the `kept` fields, which an edit does not change), flashes `created` or
    `updated` and goes on to `then(record)`; a refusal shows the form again, its message on its
    field, answered `refused_status`."""

    template: str
    name: str
    form: Callable[[R | None], F]
    create: Callable[..., R]
    update: Callable[..., R]
    created: str | LazyString | Callable[[R], str]  # a message, or a function of the record
    updated: str | LazyString
    then: Callable[[R], str]
    page_form: Callable[[R | None], F] | None = None
    kept: tuple[str, ...] = ()
    refused_status: int = 422

    def show(self, form: F, record: R | None) -> str:
        return render_template(self.template, form=form, **{self.name: record})

    def save_new(self) -> Response | tuple[str, int]:
        form = self.form(None)
        created = self.created

        def done(record: R) -> str:
            return str(created(record) if callable(created) else created)

        return self._save(form, None, lambda: self.create(actor=current_user, **form_values(form)), done)

    def save_edit(self, record: R) -> Response | tuple[str, int]:
        form = self.form(record)
        values = {self.name: record}
        return self._save(
            form,
            record,
            lambda: self.update(actor=current_user, **values, **form_values(form, *self.kept)),
            str(self.updated),
        )

    def _save(
        self, form: F, record: R | None, run: Callable[[], R], done: str | Callable[[R], str]
    ) -> Response | tuple[str, int]:
        return submit(
            form,
            run,
            done=done,
            then=self.then,
            template=self.template,
            refused_status=self.refused_status,
            **{self.name: record},
        )

    def route(
        self,
        bp: Blueprint,
        permission: Permission,
        *,
        new_url: str,
        edit_url: str,
        load: Callable[[int], R],
    ) -> None:
        """Register `new` (GET) and `create` (POST) at `new_url`, `edit` (GET) and `update` (POST)
        at `edit_url`, which names `<int:{name}_id>`; `load` finds the record (404 outside the
        user's reach)."""
        id_name = f"{self.name}_id"

        shown = self.form if self.page_form is None else self.page_form

        def new() -> str:
            return self.show(shown(None), None)

        def create() -> Response | tuple[str, int]:
            return self.save_new()

        def edit(**ids: int) -> str:
            record = load(ids[id_name])
            return self.show(shown(record), record)

        def update(**ids: int) -> Response | tuple[str, int]:
            return self.save_edit(load(ids[id_name]))

        allowed = requires(permission)
        bp.add_url_rule(new_url, "new", allowed(new), methods=["GET"])
        bp.add_url_rule(new_url, "create", allowed(create), methods=["POST"])
        bp.add_url_rule(edit_url, "edit", allowed(edit), methods=["GET"])
        bp.add_url_rule(edit_url, "update", allowed(update), methods=["POST"])
