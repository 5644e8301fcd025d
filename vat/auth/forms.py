from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are of wtforms 3.2
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange
from wtforms.widgets import HiddenInput

from vat.auth.models import ROLE_LABELS
from vat.i18n import LANGUAGES
from vat.request_keys import KeyedForm


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class EndSessionForm(FlaskForm):
    """End one of your sessions (its id in a hidden field, kept to what an id can be)."""

    session_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, 2**31 - 1)])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


CODE_FIELD_OPTIONS = {"autocomplete": "one-time-code", "inputmode": "numeric"}


# A code for the account's authenticator is not validated here, whatever its shape (empty, too
# long, not digits): the service counts and audits it as a failed attempt.


class CodeForm(FlaskForm):
    code = StringField(_l("Six-digit code from your authenticator app"), render_kw=CODE_FIELD_OPTIONS)


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    code = StringField(_l("Code from your authenticator app (if enrolled)"), render_kw=CODE_FIELD_OPTIONS)


class EnrolForm(FlaskForm):
    """Setting up an authenticator needs the password, and replacing one a code from it."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    current_code = StringField(_l("Code from your current authenticator app"), render_kw=CODE_FIELD_OPTIONS)
    code = StringField(
        _l("Six-digit code from the new authenticator app"),
        validators=[DataRequired(), Length(max=64)],
        render_kw=CODE_FIELD_OPTIONS,
    )


def new_password_field() -> Any:
    return PasswordField(
        _l("New password (12 characters or more; a few unrelated words work well)"),
        validators=[DataRequired(), Length(max=128)],
    )


def confirmation_field() -> Any:
    """The new password again, equal to the form's `new` field."""
    return PasswordField(
        _l("New password again"), validators=[DataRequired(), EqualTo("new", _l("The passwords differ."))]
    )


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new = new_password_field()
    confirm = confirmation_field()


class LanguageForm(FlaskForm):
    """The reader's preferences: language and time zone."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("As my browser asks"))]
        + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
    )
    time_zone = SelectField(
        _l("Time zone"), default="", description=_l("Times are shown in it, with its name.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = _l("The fund's (%(zone)s)", zone=current_app.config["VAT_TIME_ZONE"])
        self.time_zone.choices = [SelectChoice("", default)] + [
            SelectChoice(name, name) for name in sorted(available_timezones())
        ]


ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]
SCOPE_HELP = _l("Countries or missions, comma-separated: CAF, COD/MONUSCO")


class NewUserForm(KeyedForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=128)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    scope = StringField(_l("Scope"), validators=[Length(max=500)], description=SCOPE_HELP)


class EditUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    scope = StringField(_l("Scope"), validators=[Length(max=500)], description=SCOPE_HELP)
    active = BooleanField(_l("Active"))


class ResetPasswordForm(FlaskForm):
    """Choose a new password with the one-time code an administrator gave."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    code = StringField(
        _l("Reset code from your administrator"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
    )
    new = new_password_field()
    confirm = confirmation_field()
