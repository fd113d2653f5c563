"""Forms for invitations."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField
from wtforms.validators import Length, Optional

from majlis.forms import MajlisForm


class InviteForm(MajlisForm):
    body = SelectField(_l("Government body (all its officials)"), choices=[], validators=[Optional()])
    email = EmailField(_l("Or one person, by e-mail"), validators=[Optional(), Length(max=254)])
    whole_series = BooleanField(_l("Also invite to every later session of this series"), default=True)
