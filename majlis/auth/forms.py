"""Forms for the account pages (shape checks only; rules live in the services)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from majlis.forms import MajlisForm


class SignupForm(MajlisForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(min=2, max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    phone = TelField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    area = SelectField(_l("Area of the governorate"), validators=[Optional()], choices=[], validate_choice=True)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
    )


class LoginForm(MajlisForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    remember = BooleanField(_l("Keep me signed in on this device for 14 days"), default=False)


class VerifyForm(MajlisForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(min=6, max=6)])


class ResendForm(MajlisForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class TokenForm(MajlisForm):
    label = StringField(_l("Label (for example: my phone)"), validators=[Optional(), Length(max=100)])


class ChangePasswordForm(MajlisForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])


class EmptyForm(MajlisForm):
    """A form with only the CSRF token, for buttons that change state."""
