"""Forms of the case pages (shapes only; the rules live in majlis/followups/services.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from majlis.enums import CaseChannel, FeedbackOutcome
from majlis.forms import MajlisForm

_REQUIRED = _l("This field is required.")

CHANNEL_LABELS = {
    CaseChannel.PHONE: _l("Phone call"),
    CaseChannel.FIELD_VISIT: _l("Field visit"),
    CaseChannel.SOCIAL_MEDIA: _l("Social media"),
    CaseChannel.EMAIL: _l("E-mail"),
    CaseChannel.MAJLIS: _l("Majlis"),
    CaseChannel.WEBSITE: _l("Website"),
    CaseChannel.APP: _l("App"),
}
OUTCOME_LABELS = {
    FeedbackOutcome.FIXED: _l("Fixed"),
    FeedbackOutcome.PARTLY_FIXED: _l("Partly fixed"),
    FeedbackOutcome.NOT_FIXED: _l("Not fixed"),
}


def _one_line(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def _paragraphs(value):
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class _PlaceFields:
    place_address = StringField(_l("Address or landmark (optional)"), validators=[Optional()], filters=[_one_line])
    latitude = StringField(_l("Latitude (optional)"), validators=[Optional()], filters=[_one_line])
    longitude = StringField(_l("Longitude (optional)"), validators=[Optional()], filters=[_one_line])

    def place(self, *, public: bool) -> dict | None:
        if not (self.place_address.data or self.latitude.data or self.longitude.data):
            return None
        return {"address": self.place_address.data or None, "lat": self.latitude.data or None,
                "lon": self.longitude.data or None, "public": public}


class RequestForm(_PlaceFields, MajlisForm):
    """A resident's request from the website."""

    category = SelectField(_l("What is it about?"), validators=[InputRequired(message=_REQUIRED)])
    area_id = SelectField(_l("Area"), validators=[Optional()])
    description = TextAreaField(_l("Describe what needs to be done"), validators=[InputRequired(message=_REQUIRED)],
                                filters=[_paragraphs], render_kw={"rows": 5, "maxlength": 2000})
    place_is_public = BooleanField(_l("The place may be published with the request (without my name)"))


class ChannelCaseForm(_PlaceFields, MajlisForm):
    """A case the office opens for a need received by phone, social media, e-mail or on a field visit."""

    channel = SelectField(_l("Received by"),
                          choices=[SelectChoice(c.value, label) for c, label in CHANNEL_LABELS.items()])
    category = SelectField(_l("Category (and so the government body)"),
                           validators=[InputRequired(message=_REQUIRED)])
    area_id = SelectField(_l("Area"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[InputRequired(message=_REQUIRED)],
                                filters=[_paragraphs], render_kw={"rows": 5, "maxlength": 2000})
    resident_email = StringField(_l("The resident's account e-mail, if they have one"), validators=[Optional()],
                                 filters=[_one_line])
    contact_name = StringField(_l("Contact name"), validators=[Optional()], filters=[_one_line])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional()], filters=[_one_line])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional()], filters=[_one_line])
    place_is_public = BooleanField(_l("The resident agreed to publish the place"))
    session_id = IntegerField(_l("Session or field visit number (optional)"), validators=[Optional()],
                              invalid_value_message=_l("Enter a whole number."))
    due_on = DateField(_l("Due by (optional; by default the category's days)"), validators=[Optional()],
                       invalid_value_message=_l("Enter a date."))


class TriageForm(MajlisForm):
    category = SelectField(_l("Category (and so the government body)"),
                           validators=[InputRequired(message=_REQUIRED)])
    due_on = DateField(_l("Due by (optional)"), validators=[Optional()], invalid_value_message=_l("Enter a date."))


class CategoryForm(MajlisForm):
    code = StringField(_l("Code (Latin letters, digits and hyphens; published, cannot change)"),
                       filters=[_one_line])
    name_ar = StringField(_l("Name in Arabic"), validators=[InputRequired(message=_REQUIRED)], filters=[_one_line])
    name_en = StringField(_l("Name in English"), validators=[InputRequired(message=_REQUIRED)], filters=[_one_line])
    body_id = SelectField(_l("Government body"), validators=[InputRequired(message=_REQUIRED)])
    days_to_resolve = IntegerField(_l("Days to resolve"), validators=[InputRequired(message=_REQUIRED)], default=30,
                                   invalid_value_message=_l("Enter a whole number."))
    is_active = BooleanField(_l("Offered to residents and the office"), default=True)
    is_published = BooleanField(_l("Published in open data and Open311"), default=True)


class FeedbackForm(MajlisForm):
    outcome = RadioField(_l("Was it fixed?"),
                         choices=[SelectChoice(o.value, label) for o, label in OUTCOME_LABELS.items()],
                         validators=[InputRequired(message=_l("Choose one answer."))])
    rating = RadioField(_l("How satisfied are you? (optional)"),
                        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)], validators=[Optional()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional()], filters=[_paragraphs],
                            render_kw={"rows": 3, "maxlength": 1000})
