"""Forms for the staff planning pages (shapes only; the rules live in majlis/sessions/services.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields import URLField
from wtforms.validators import InputRequired, Optional

from majlis.forms import MajlisForm

try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms takes the tuples

    def SelectChoice(value, label):  # noqa: N802 - stands in for the class
        return value, label

KIND_LABELS = {
    "weekly": _l("Weekly majlis"),
    "coordinating": _l("Coordinating majlis"),
    "special": _l("Special session"),
    "field_visit": _l("Field visit"),
}
FORMAT_LABELS = {
    "online": _l("Online (video meeting)"),
    "in_person": _l("In person, at a place"),
    "hybrid": _l("Hybrid: in a hall and online"),
}
VISIBILITY_LABELS = {
    "public": _l("Public: residents can register"),
    "invited": _l("By invitation only"),
}
# Browsers send datetime-local values without seconds unless a step below a minute is set.
WALL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

# The page carries a <datalist> of common rules; the browser offers them as suggestions.
_RRULE_INPUT = {"list": "rrule-presets", "autocomplete": "off", "spellcheck": "false"}
_REQUIRED = _l("This field is required.")
_WHOLE_NUMBER = _l("Enter a whole number.")
_DATE_TIME = _l("Enter a date and time.")
_DATE = _l("Enter a date.")


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _choices(labels: dict) -> list:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _one_line(value):
    return value.strip() if isinstance(value, str) else value


def _paragraphs(value):
    """Keep descriptions' line breaks as plain newlines (browsers send CR LF from a textarea)."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _required():
    return [InputRequired(message=_REQUIRED)]


def _whole_number(label, default=None):
    return IntegerField(label, validators=_required(), default=default, invalid_value_message=_WHOLE_NUMBER)


def _wall_time(label, *, required: bool = True):
    return DateTimeLocalField(label, validators=_required() if required else [Optional()], format=WALL_TIME_FORMATS,
                              invalid_value_message=_DATE_TIME)


class RemindersField(StringField):
    """Reminder leads typed as "24h, 1h, 30m" (h hours, m or nothing minutes), held as minutes: [1440, 60, 30]."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(f"{m // 60}h" if m % 60 == 0 else f"{m}m" for m in (self.data or []))

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].translate(str.maketrans("٠١٢٣٤٥٦٧٨٩،", "0123456789,"))
        minutes = []
        for part in filter(None, (piece.strip().lower().replace(" ", "") for piece in text.split(","))):
            number, unit = (part[:-1], part[-1]) if part[-1] in "hm" else (part, "m")
            if not number.isascii() or not number.isdecimal():
                self.data = None
                raise ValueError(_l("Write the reminders like this: 24h, 1h, 30m."))
            minutes.append(int(number) * (60 if unit == "h" else 1))
        self.data = minutes


class _TitlesForm(MajlisForm):
    """Titles and descriptions in both languages, shared by series and one-off sessions."""

    title_ar = StringField(_l("Title in Arabic"), validators=_required(), filters=[_one_line])
    title_en = StringField(_l("Title in English"), validators=_required(), filters=[_one_line])
    description_ar = TextAreaField(_l("Description in Arabic"), validators=[Optional()], filters=[_paragraphs])
    description_en = TextAreaField(_l("Description in English"), validators=[Optional()], filters=[_paragraphs])


def _optional_number(label):
    return DecimalField(label, validators=[Optional()], places=None,
                        invalid_value_message=_l("Enter a number, e.g. 26.2285."))


class _VenueForm(MajlisForm):
    """Where a session (or each session of a series) is held: its format, its place and the hall's seats (the
    area's choices are set by the view).

    The place's fields are flat here; the view gathers them into the services' `place`.
    """

    format = SelectField(_l("Where it is held"), choices=_choices(FORMAT_LABELS), default="online")
    in_person_capacity = IntegerField(_l("Seats in the hall"), validators=[Optional()],
                                      invalid_value_message=_WHOLE_NUMBER)
    place_name_ar = StringField(_l("Place name in Arabic"), validators=[Optional()], filters=[_one_line])
    place_name_en = StringField(_l("Place name in English"), validators=[Optional()], filters=[_one_line])
    place_address = StringField(_l("Address"), validators=[Optional()], filters=[_one_line])
    place_area_id = SelectField(_l("Area"), choices=[], validators=[Optional()])
    latitude = _optional_number(_l("Latitude"))
    longitude = _optional_number(_l("Longitude"))


class SeriesForm(_TitlesForm, _VenueForm):
    """A new series: what it is, when it repeats, where it is held, seats and the registration window."""

    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), default="weekly")
    rrule = StringField(_l("Recurrence rule (RRULE)"), validators=_required(), filters=[_one_line],
                        render_kw=_RRULE_INPUT)
    first_start = _wall_time(_l("First session (local date and time)"))
    duration_minutes = _whole_number(_l("Length in minutes"), default=90)
    capacity = _whole_number(_l("Online seats"), default=100)
    registration_opens_days = _whole_number(_l("Registration opens (days before)"), default=7)
    registration_closes_minutes = _whole_number(_l("Registration closes (minutes before)"), default=60)
    visibility = SelectField(_l("Who may attend"), choices=_choices(VISIBILITY_LABELS), default="public")
    reminder_minutes = RemindersField(_l("Reminders before each session"), default=[24 * 60, 60])


class SeriesEditForm(_TitlesForm, _VenueForm):
    """Changes to a series from a day forward (every field pre-filled with the current value)."""

    from_day = DateField(_l("Apply from (local date)"), validators=_required(), invalid_value_message=_DATE)
    rrule = StringField(_l("Recurrence rule (RRULE)"), validators=_required(), filters=[_one_line],
                        render_kw=_RRULE_INPUT)
    start_time = TimeField(_l("Start time (local)"), validators=_required(), format=["%H:%M", "%H:%M:%S"],
                           invalid_value_message=_l("Enter a time."))
    duration_minutes = _whole_number(_l("Length in minutes"))
    capacity = _whole_number(_l("Online seats"))
    registration_opens_days = _whole_number(_l("Registration opens (days before)"))
    registration_closes_minutes = _whole_number(_l("Registration closes (minutes before)"))
    visibility = SelectField(_l("Who may attend"), choices=_choices(VISIBILITY_LABELS))
    reminder_minutes = RemindersField(_l("Reminders before each session"))


class SeriesEndForm(MajlisForm):
    last_day = DateField(_l("Last day of the series (local date)"), validators=_required(),
                         invalid_value_message=_DATE)


class OneOffForm(_TitlesForm, _VenueForm):
    """A session outside any series."""

    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), default="special")
    starts_at = _wall_time(_l("Starts (local date and time)"))
    duration_minutes = _whole_number(_l("Length in minutes"), default=90)
    capacity = _whole_number(_l("Online seats"), default=50)
    registration_opens_at = _wall_time(_l("Registration opens (optional)"), required=False)
    registration_closes_at = _wall_time(_l("Registration closes (optional)"), required=False)
    visibility = SelectField(_l("Who may attend"), choices=_choices(VISIBILITY_LABELS), default="public")
    stream_url = URLField(_l("Live stream address (optional)"), validators=[Optional()], filters=[_stripped])
    public_viewing = BooleanField(_l("Any signed-in resident may follow (as a viewer or on the stream)"))


class SessionUpdateForm(_VenueForm):
    """Move one session or change its seats, place, registration window and overflow viewing (local wall times)."""

    starts_at = _wall_time(_l("Starts (local date and time)"))
    ends_at = _wall_time(_l("Ends (local date and time)"))
    capacity = _whole_number(_l("Online seats"))
    registration_opens_at = _wall_time(_l("Registration opens"))
    registration_closes_at = _wall_time(_l("Registration closes"))
    stream_url = URLField(_l("Live stream address (optional)"), validators=[Optional()], filters=[_stripped])
    public_viewing = BooleanField(_l("Any signed-in resident may follow (as a viewer or on the stream)"))


class CancelForm(MajlisForm):
    reason = TextAreaField(_l("Reason residents will see"), validators=_required(), filters=[_one_line])
