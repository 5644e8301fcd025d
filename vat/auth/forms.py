from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from vat.auth.models import Role


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class CodeForm(FlaskForm):
    code = StringField(
        "Six-digit code from your authenticator app",
        validators=[DataRequired(), Length(min=6, max=7)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ReauthForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])
    code = StringField(
        "Code from your authenticator app (if enrolled)",
        validators=[Optional(), Length(min=6, max=7)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])
    new = PasswordField(
        "New password (12 characters or more; a few unrelated words work well)",
        validators=[DataRequired(), Length(max=128)],
    )
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("new", "The passwords differ.")]
    )


ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]
SCOPE_HELP = "Countries or missions, comma-separated: CAF, COD/MONUSCO"


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=128)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    scope = StringField("Scope", validators=[Length(max=500)], description=SCOPE_HELP)


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    scope = StringField("Scope", validators=[Length(max=500)], description=SCOPE_HELP)
    active = BooleanField("Active")
