"""Forms for invitations and check-in at the door."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from majlis.forms import MajlisForm


class InviteForm(MajlisForm):
    body = SelectField(_l("Government body (all its officials)"), choices=[], validators=[Optional()])
    email = EmailField(_l("Or one person, by e-mail"), validators=[Optional(), Length(max=254)])
    whole_series = BooleanField(_l("Also invite to every later session of this series"), default=True)


class CheckInForm(MajlisForm):
    """The code a resident shows at the door (typed, or read from their QR code by a scanner that types it)."""

    code = StringField(_l("Check-in code"), validators=[InputRequired(message=_l("Enter the check-in code.")),
                                                       Length(max=20)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "autofocus": True, "enterkeyhint": "done"})
