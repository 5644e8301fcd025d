"""The service-provider directory: everyone signed in may read it (it names organisations, not
victims); senior advocates keep it for the countries they cover, administrators everywhere."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.auth.models import Role
from vat.auth.policy import Permission, can, signed_in
from vat.inputs import country_choices
from vat.record_form import RecordForm
from vat.victims import providers
from vat.victims.forms import ProviderForm, choices
from vat.victims.models import Provider, ServiceType

bp = Blueprint("providers", __name__, url_prefix="/vat/providers")


def _country_choices() -> list[SelectChoice]:
    if current_user.role == Role.ADMIN:
        return [SelectChoice(code, label) for code, label in country_choices()]
    codes = sorted({s.country_code for s in current_user.scopes if s.mission is None})
    return [SelectChoice(code, code) for code in codes]


def _form(**data: object) -> ProviderForm:
    form = ProviderForm(**data)
    form.country_code.choices = _country_choices()
    return form


def _managed(provider_id: int) -> Provider:
    """A provider the user keeps; any other answers 404, as a record outside scope does."""
    provider = providers.get_provider(provider_id)
    if provider is None or not providers.may_manage(current_user, provider.country_code):
        abort(404)
    return provider


@bp.get("/")
@signed_in
def directory() -> str:
    country = (request.args.get("country") or "").strip().upper()[:3]
    service = request.args.get("service_type") or ""
    service = service if service in {t.value for t in ServiceType} else ""
    manages = can(current_user, Permission.MANAGE_PROVIDERS)
    return render_template(
        "vat/providers/index.html",
        providers=providers.directory(country_code=country, service_type=service),
        country=country,
        service=service,
        services=choices(ServiceType),
        ad_hoc=providers.ad_hoc_providers(current_user) if manages else [],
        manages=manages,
        may_manage=lambda p: providers.may_manage(current_user, p.country_code),
    )


def _page_form(provider: Provider | None) -> ProviderForm:
    if provider is None:
        # An ad-hoc provider promoted from the directory page arrives with its name and country.
        return _form(
            name=request.args.get("name", "")[:200], country_code=request.args.get("country", "")[:3]
        )
    return _form(obj=provider, service_types=provider.service_types)


PROVIDER_FORM: RecordForm[Provider, ProviderForm] = RecordForm(
    template="vat/providers/form.html",
    name="provider",
    form=lambda _provider: _form(),
    create=providers.create_provider,
    update=providers.update_provider,
    created=_l("Provider added to the directory."),
    updated=_l("Provider updated."),
    then=lambda _provider: url_for("providers.directory"),
    page_form=_page_form,
)
PROVIDER_FORM.route(
    bp, Permission.MANAGE_PROVIDERS, new_url="/new", edit_url="/<int:provider_id>", load=_managed
)
