"""Open311 GeoReport v2 (read-only) under /open311/v2, and the open data files and their dictionary under
/open-data. Public, anonymised, in the page's language (`?lang=en` for English)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, current_app, jsonify, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from majlis.db import get_db
from majlis.enums import CaseStatus
from majlis.errors import InvalidInput, MajlisError, NotFound
from majlis.open311 import georeport, opendata
from majlis.open311 import services as public
from majlis.templating import current_lang
from majlis.timeutil import local_zone, utcnow

bp = Blueprint("open311", __name__)
PREFIX = "/open311/v2"
XML = "text/xml; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
# Before any category was added: the day this interface appeared.
FIRST_CHANGESET = datetime(2026, 12, 1, tzinfo=UTC)


def _answer(fmt: str, root: str, item: str | None, content) -> Response:
    if fmt == "xml":
        response = current_app.response_class(georeport.to_xml(root, item, content), mimetype="text/xml")
        response.headers["Content-Type"] = XML
    else:
        response = jsonify(content)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.errorhandler(MajlisError)
def _error(exc: MajlisError):
    """GeoReport's error list, in the format the path asked for."""
    content = georeport.errors_document(exc.status, str(exc.message))
    if request.path.endswith(".xml"):
        return current_app.response_class(georeport.to_xml("errors", "error", content), status=exc.status,
                                          headers={"Content-Type": XML})
    return jsonify(content), exc.status


def _formats(rule: str, endpoint: str, view) -> None:
    for fmt in ("json", "xml"):
        bp.add_url_rule(f"{rule}.{fmt}", f"{endpoint}_{fmt}", view, defaults={"fmt": fmt})


def discovery(fmt: str):
    """Serve the GeoReport v2 discovery document."""
    changed = public.last_category_change(get_db())
    document = georeport.discovery_document(
        base_url=current_app.config["MAJLIS_BASE_URL"], changeset=max(changed or FIRST_CHANGESET, FIRST_CHANGESET),
        contact=_("The Governor's office, Capital Governorate: %(url)s",
                  url=current_app.config["MAJLIS_BASE_URL"] + "/open-data"))
    return _answer(fmt, "discovery", None, document)


def services(fmt: str):
    """Serve the GeoReport list of services (the published categories)."""
    lang = current_lang()
    return _answer(fmt, "services", "service",
                   [georeport.service_document(service, lang=lang) for service in public.services(get_db())])


def status_notes(case: public.PublicCase, today: date) -> str:
    """Tell what the status means, in words (never an official's or a resident's free text)."""
    body = case.body_name_en if current_lang() == "en" else case.body_name_ar
    if case.status == CaseStatus.DECLINED:
        return _("Declined.")
    if case.status == CaseStatus.CONFIRMED:
        return _("Resolved by %(body)s; the resident confirmed it was fixed.", body=body)
    if case.status == CaseStatus.RESOLVED:
        return _("Resolved by %(body)s.", body=body)
    note = (_("Reopened: the resident said it was not fixed. With %(body)s.", body=body) if case.reopened
            else _("In progress with %(body)s.", body=body) if case.status == CaseStatus.IN_PROGRESS
            else _("With %(body)s.", body=body))
    if case.due_on < today:
        note += " " + _("Past its expected date.")
    return note


def _requests(cases: list[public.PublicCase], fmt: str):
    zone, lang = local_zone(), current_lang()
    today = utcnow().astimezone(zone).date()
    return _answer(fmt, "service_requests", "request", [
        georeport.request_document(case, lang=lang, zone=zone, status_notes=status_notes(case, today))
        for case in cases])


def requests(fmt: str):
    """Serve the published service requests a GeoReport query asks for."""
    query = public.request_query(request.args, now=utcnow(), zone=local_zone())
    return _requests(public.service_requests(get_db(), query), fmt)


def one_request(request_id: str, fmt: str):
    """Serve one published service request; 404 otherwise."""
    case_id = int(request_id) if request_id.isascii() and request_id.isdecimal() and len(request_id) < 10 else 0
    found = public.service_request(get_db(), case_id) if case_id else None
    if found is None:
        raise NotFound(_("No published service request has this id."))
    return _requests([found], fmt)


_formats(f"{PREFIX}/discovery", "discovery", discovery)
_formats(f"{PREFIX}/services", "services", services)
_formats(f"{PREFIX}/requests", "requests", requests)
_formats(f"{PREFIX}/requests/<request_id>", "request", one_request)


@bp.get(f"{PREFIX}/<path:rest>")
def unknown(rest: str):
    """Answer anything else under the interface with GeoReport's 404, in the format its suffix asks for."""
    raise NotFound()


# --- open data ----------------------------------------------------------------------------------------------------

data_bp = Blueprint("opendata", __name__)


@data_bp.errorhandler(MajlisError)
def _data_error(exc: MajlisError):
    """The files are machine-read: their refusals are Majlis's JSON error body, whatever the Accept header."""
    return jsonify({"error": {"code": exc.code, "message": str(exc.message), "field": exc.field}}), exc.status


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_l("Enter a date as YYYY-MM-DD."), field=field) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidInput(_l("Enter a date between 2000 and 2100."), field=field)
    return day


def _range() -> tuple[date | None, date | None]:
    start, end = _day(request.args.get("from"), "from"), _day(request.args.get("to"), "to")
    if start and end and end < start:
        raise InvalidInput(_l("'to' must not be before 'from'."), field="to")
    return start, end


@data_bp.get("/open-data")
def open_data():
    """Show the open-data page with the data dictionary."""
    return render_template("open311/open_data.html", fields=opendata.DICTIONARY,
                           services=public.services(get_db()))


@data_bp.get("/open-data/cases.csv")
def cases_csv():
    """Stream the published cases of the chosen period as CSV."""
    start, end = _range()
    zone = local_zone()
    pages = public.all_published(get_db(), start=start, end=end, zone=zone)
    response = Response(stream_with_context(opendata.csv_lines(pages, zone)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="majlis-cases.csv"'
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@data_bp.get("/open-data/cases.json")
def cases_json():
    """Stream the published cases of the chosen period as JSON."""
    start, end = _range()
    zone = local_zone()
    pages = public.all_published(get_db(), start=start, end=end, zone=zone)

    def chunks():
        yield '{"fields": ' + current_app.json.dumps([f.name for f in opendata.DICTIONARY]) + ', "cases": ['
        first = True
        for page in pages:
            for case in page:
                yield ("" if first else ", ") + current_app.json.dumps(opendata.record(case, zone))
                first = False
        yield "]}\n"

    response = Response(stream_with_context(chunks()), mimetype="application/json")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response
