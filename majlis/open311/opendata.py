"""The open data files of cases (CSV and JSON): their fields, described once for the files and the dictionary page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from majlis.open311.services import PublicCase


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # as the dictionary page shows it: integer, text, date (YYYY-MM-DD), number, boolean
    description: object  # lazy text


DICTIONARY = (
    Field("case_id", "integer", _l("The case's number; the same as its Open311 service_request_id.")),
    Field("channel", "text", _l("How the need reached the governorate: majlis, field_visit, app, website, phone, "
                                "social_media or email.")),
    Field("status", "text", _l("open (with its body), in_progress, resolved, confirmed (the resident said it was "
                               "fixed) or declined.")),
    Field("category_code", "text", _l("The category; the same as the Open311 service_code (general: none).")),
    Field("category_name_ar", "text", _l("The category's name in Arabic.")),
    Field("category_name_en", "text", _l("The category's name in English.")),
    Field("body_code", "text", _l("The government body in charge.")),
    Field("body_name_ar", "text", _l("The body's name in Arabic.")),
    Field("body_name_en", "text", _l("The body's name in English.")),
    Field("area_code", "text", _l("The area of the governorate (empty when not given).")),
    Field("area_name_ar", "text", _l("The area's name in Arabic.")),
    Field("area_name_en", "text", _l("The area's name in English.")),
    Field("opened_on", "date", _l("The local day the case was opened.")),
    Field("due_on", "date", _l("The day it is due by: its category's days to resolve, unless the office set "
                               "another.")),
    Field("closed_on", "date", _l("The local day it was closed (empty while open).")),
    Field("closed_on_time", "boolean", _l("true when closed on or before its due day, false when later, empty while "
                                          "open.")),
    Field("days_to_close", "number", _l("Days from opening to closing, with one decimal (empty while open).")),
    Field("reopened", "integer", _l("How many times the resident reopened it.")),
    Field("feedback_outcome", "text", _l("The resident's latest answer to \"was it fixed?\": fixed, partly_fixed or "
                                         "not_fixed (empty without an answer).")),
    Field("feedback_rating", "integer", _l("The resident's rating from 1 to 5 (empty without one).")),
    Field("place_address", "text", _l("The address, only when the resident agreed to publish the place.")),
    Field("latitude", "number", _l("WGS 84 latitude, only when the resident agreed to publish the place.")),
    Field("longitude", "number", _l("WGS 84 longitude, only when the resident agreed to publish the place.")),
)
FIELD_NAMES = tuple(field.name for field in DICTIONARY)


def record(case: PublicCase, zone: ZoneInfo) -> dict:
    """A case as one open data record (the dictionary's fields, in its order)."""
    closed = case.resolved_at.astimezone(zone).date().isoformat() if case.resolved_at else None
    values = (
        case.id, case.channel.value, case.status.value, case.service_code, case.service_name_ar,
        case.service_name_en, case.body_code, case.body_name_ar, case.body_name_en, case.area_code, case.area_name_ar,
        case.area_name_en, case.opened_at.astimezone(zone).date().isoformat(), case.due_on.isoformat(), closed,
        case.closed_on_time(zone), case.days_to_close(), case.reopened,
        case.feedback_outcome.value if case.feedback_outcome else None, case.feedback_rating, case.place_address,
        case.latitude, case.longitude,
    )
    return dict(zip(FIELD_NAMES, values, strict=True))


# A cell a spreadsheet would run as a formula. When majlis/csvexport.py lands, this is its `defuse`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value) -> object:
    """A CSV cell that no spreadsheet reads as a formula: text starting with = + - @ or a control is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return defuse(value)


def csv_lines(pages: Iterable[list[PublicCase]], zone: ZoneInfo) -> Iterable[str]:
    """The CSV file, a header then a line per case, written as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(FIELD_NAMES)
    yield "\ufeff" + flush()  # a byte order mark, so spreadsheets read the Arabic as UTF-8
    for page in pages:
        for case in page:
            writer.writerow([_cell(value) for value in record(case, zone).values()])
        yield flush()
