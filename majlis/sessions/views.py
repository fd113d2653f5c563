"""Staff planning pages: series, one-off sessions, the month view, moving and cancelling occurrences."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names
from babel.lists import format_list
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from majlis import cache
from majlis.auth import services as auth_services
from majlis.auth.decorators import roles_required
from majlis.auth.forms import EmptyForm
from majlis.db import get_db, unit_of_work
from majlis.directory import services as directory
from majlis.enums import Role, Visibility
from majlis.errors import InvalidInput, MajlisError
from majlis.sessions import services
from majlis.sessions.forms import (
    FORMAT_LABELS,
    KIND_LABELS,
    CancelForm,
    OneOffForm,
    SeriesEditForm,
    SeriesEndForm,
    SeriesForm,
    SessionUpdateForm,
)
from majlis.sessions.models import MajlisSession, Series, reminder_minutes_of
from majlis.templating import current_lang
from majlis.timeutil import (
    HIJRI_MONTHS_AR,
    HIJRI_MONTHS_EN,
    format_hijri,
    hijri_date,
    local_zone,
    to_local,
    utcnow,
)

bp = Blueprint("planning", __name__, url_prefix="/staff")
public = Blueprint("sessions", __name__)  # what residents see: the upcoming sessions and each session's page


# What an anonymous reader's cookie may hold without changing the page: the language (in the key) and the CSRF
# secret of a form seen elsewhere (the anonymous page has no form). Anything else (a flash message) is rendered.
ANONYMOUS_KEYS = frozenset({"lang", "csrf_token"})


def _viewer():
    return current_user if current_user.is_authenticated else None


@public.route("/")
def home():
    """List the upcoming sessions the viewer may see, narrowed to an area and a kind if asked."""
    db_session = get_db()
    filters = services.session_filters(db_session, request.args)
    sessions = services.upcoming_sessions(db_session, viewer=_viewer(), now=utcnow(), limit=12, filters=filters)
    return render_template("sessions/home.html", sessions=sessions, filters=filters, areas=area_options(),
                           kinds=[(kind, str(label)) for kind, label in KIND_LABELS.items()])


def area_options() -> list[tuple[str, str]]:
    """List the governorate's areas as (id, name in the page's language), by name, for a select."""
    return directory.area_choices(get_db(), current_lang())


@public.route("/sessions/<int:session_id>")
def session_page(session_id: int):
    """Show one session: its time, seats, what the viewer may do (register, cancel, enter), questions, calendars."""
    from majlis.minutes.services import minutes_of

    db_session = get_db()
    viewer = _viewer()
    majlis_session = services.get_visible_session(db_session, session_id, viewer)
    minutes = minutes_of(db_session, majlis_session)
    minutes_status = minutes.status.value if minutes else None
    if viewer is not None or cookie_session.keys() - ANONYMOUS_KEYS or request.args.keys() - {"lang"}:
        return _framing(majlis_session, current_app.make_response(_session_page(majlis_session, viewer,
                                                                                minutes_status)))
    # Every anonymous reader sees the same page in their language: built once per state of what it shows.
    key = (f"page:{majlis_session.id}:{majlis_session.updated_at.timestamp()}:{majlis_session.status.value}:"
           f"{majlis_session.confirmed_count}:{majlis_session.waitlist_count}:{majlis_session.live_version}:"
           f"{majlis_session.in_person_confirmed_count}:{majlis_session.in_person_waitlist_count}:"
           f"{minutes_status}:{current_lang()}")
    response = current_app.response_class(cache.built(key, lambda: _session_page(majlis_session, None, minutes_status)),
                                          mimetype="text/html")
    response.vary.add("Cookie")  # a signed-in reader gets another page at the same address
    return _framing(majlis_session, response)


def _framing(majlis_session: MajlisSession, response):
    """A session with a live stream: its page may frame that stream's player, and nothing else."""
    if majlis_session.stream_url:
        from majlis import csp_framing
        from majlis.sessions.streams import embed_url, origin

        response.headers["Content-Security-Policy"] = csp_framing(current_app,
                                                                  origin(embed_url(majlis_session.stream_url)))
    return response


@public.route("/sessions/<int:session_id>/viewer")
def viewer_part(session_id: int):
    """Send the viewer's part of the session page alone (the room, the stream, their place), for its live refresh."""
    from majlis.jitsi.services import settings_from_config
    from majlis.registration.services import offer

    db_session = get_db()
    viewer = _viewer()
    majlis_session = services.get_visible_session(db_session, session_id, viewer)
    now = utcnow()
    found = offer(db_session, majlis_session, viewer, now=now, room_settings=settings_from_config(current_app.config))
    html = render_template("sessions/_viewer_part.html", majlis_session=majlis_session, offer=found, now=now,
                           stream_embed=_stream_embed(majlis_session), form=EmptyForm() if viewer else None)
    response = _framing(majlis_session, current_app.make_response(html))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _stream_embed(majlis_session: MajlisSession) -> str | None:
    from majlis.sessions.streams import embed_url

    return embed_url(majlis_session.stream_url) if majlis_session.stream_url else None


def _session_page(majlis_session: MajlisSession, viewer, minutes_status: str | None) -> str:
    from majlis.jitsi.services import settings_from_config
    from majlis.questions import views as question_views
    from majlis.questions.services import ask_refusal, sort_of
    from majlis.registration.services import offer

    db_session = get_db()
    now = utcnow()
    sort = sort_of(request.args.get("sort"))
    return render_template(
        "sessions/session.html", majlis_session=majlis_session, now=now,
        offer=offer(db_session, majlis_session, viewer, now=now,
                    room_settings=settings_from_config(current_app.config)),
        may_ask=viewer is not None and ask_refusal(db_session, majlis_session, viewer, now=now) is None,
        questions=question_views.rendered_list(majlis_session, viewer, sort),
        sort=sort, minutes_status=minutes_status,
        calendar=_calendar_links(majlis_session), form=EmptyForm() if viewer is not None else None,
        stream_embed=_stream_embed(majlis_session),
    )


def _calendar_links(row: MajlisSession) -> dict:
    from majlis.calendar import links

    base = current_app.config["MAJLIS_BASE_URL"]
    title = row.title_en if current_lang() == "en" else row.title_ar
    page = f"{base}/sessions/{row.id}"
    feed = base + (url_for("calendar.series_feed", series_id=row.series_id)
                   if row.series_id and row.visibility == Visibility.PUBLIC else url_for("calendar.public_feed"))
    return {
        "ics": base + url_for("calendar.session_feed", session_id=row.id),
        "subscribe": links.webcal(feed),
        "subscribe_google": links.google_subscribe(feed),
        "google": links.google_add(title=title, starts_at=row.starts_at, ends_at=row.ends_at, details=page,
                                   timezone=current_app.config["MAJLIS_TIMEZONE"]),
        "outlook": links.outlook_add(title=title, starts_at=row.starts_at, ends_at=row.ends_at, details=page),
    }

WALL = "%Y-%m-%dT%H:%M"
UPCOMING_LIMIT = 12  # on a series page; the month calendar shows the rest


# --- words for the pages ------------------------------------------------------------------------------------------

VISIBILITY_SHORT = {"public": _l("Public"), "invited": _l("By invitation")}
STATUS_LABELS = {
    "scheduled": _l("Scheduled"),
    "live": _l("Live now"),
    "ended": _l("Ended"),
    "cancelled": _l("Cancelled"),
}
_WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_MONTHLY = {
    1: _l("The first %(day)s of every month"),
    2: _l("The second %(day)s of every month"),
    3: _l("The third %(day)s of every month"),
    4: _l("The fourth %(day)s of every month"),
    -1: _l("The last %(day)s of every month"),
}


def describe_rule(series: Series) -> str | None:
    """Put common rules in words ("Every Tuesday"); None for anything else (the page then shows the RRULE)."""
    parts = dict(part.split("=", 1) for part in series.rrule.upper().split(";") if "=" in part)
    if set(parts) - {"FREQ", "BYDAY"}:
        return None
    names = get_day_names("wide", locale=current_lang())
    freq, byday = parts.get("FREQ"), parts.get("BYDAY")
    if freq == "DAILY" and not byday:
        return _("Every day")
    if freq == "WEEKLY":
        codes = byday.split(",") if byday else [list(_WEEKDAY_INDEX)[series.first_start_local.weekday()]]
        if all(code in _WEEKDAY_INDEX for code in codes):
            days = [names[_WEEKDAY_INDEX[code]] for code in sorted(codes, key=_WEEKDAY_INDEX.get)]
            return _("Every %(days)s", days=format_list(days, locale=current_lang()))
    if freq == "MONTHLY" and byday:
        match = re.fullmatch(r"([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)", byday)
        if match and int(match[1]) in _MONTHLY:
            return str(_MONTHLY[int(match[1])]) % {"day": names[_WEEKDAY_INDEX[match[2]]]}
    return None


def local_day(day: date, fmt: str = "full") -> str:
    """Format a date in the current language."""
    return format_date(day, format=fmt, locale=current_lang())


@bp.context_processor
def _planning_helpers():
    return {
        "describe_rule": describe_rule,
        "kind_label": lambda kind: str(KIND_LABELS[kind.value]),
        "visibility_label": lambda visibility: str(VISIBILITY_SHORT[visibility.value]),
        "status_label": lambda status: str(STATUS_LABELS[status.value]),
        "local_day": local_day,
        "format_label": lambda session_format: str(FORMAT_LABELS[session_format.value]),
        "month_of": lambda instant: to_local(instant).strftime("%Y-%m"),
        "hijri_day": lambda day: format_hijri(day, current_lang(), current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"]),
        "reminder_leads": _reminder_leads,
    }


def _reminder_leads(series: Series) -> list[str]:
    """The series' reminders in words ("24 hours before")."""
    from majlis.registration.notices import lead_in_words

    lang = current_lang()
    return [_("%(lead)s before", lead=lead_in_words(minutes, lang)) for minutes in reminder_minutes_of(series)]


# --- shared helpers -----------------------------------------------------------------------------------------------


def _horizon() -> timedelta:
    return timedelta(weeks=current_app.config["MAJLIS_HORIZON_WEEKS"])


def _actor():
    return current_user._get_current_object()


def _today() -> date:
    return to_local(utcnow()).date()


def _wall_of(instant: datetime) -> datetime:
    """An instant as the governorate's wall time to the minute, as a datetime-local input shows it."""
    return to_local(instant).replace(tzinfo=None, second=0, microsecond=0)


def _instant_text(wall: datetime | None, zone: ZoneInfo) -> str | None:
    """A wall time from a form as ISO 8601 with the governorate's offset (what the services parse)."""
    return wall.replace(tzinfo=zone).isoformat(timespec="minutes") if wall else None


def _show_error(form, exc: MajlisError, aliases: dict | None = None) -> int:
    """Put a service's refusal next to its field (or flash it) and return the status to answer with."""
    name = (aliases or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")
    return exc.status


def _form_status(form) -> int:
    return 400 if form.errors else 200


def _series_or_404(db_session: Session, series_id: int) -> Series:
    return services.get_series(db_session, series_id)


def _session_or_404(db_session: Session, session_id: int) -> MajlisSession:
    return services.get_session(db_session, session_id)


@bp.route("/")
@roles_required(Role.STAFF)
def staff_home():
    """Show the staff desk: the coming sessions and how many accounts each role has."""
    db_session = get_db()
    sessions = services.upcoming_sessions(db_session, viewer=current_user, now=utcnow(), limit=50)
    counts = auth_services.count_by_role(db_session)
    return render_template("staff/desk.html", sessions=sessions, counts=counts, roles=list(Role))


# --- series -------------------------------------------------------------------------------------------------------


@bp.route("/series")
@roles_required(Role.STAFF)
def series_list():
    """List the series with each one's next session."""
    series, next_starts = services.series_overview(get_db(), now=utcnow())
    return render_template("staff/series_list.html", series=series, next_starts=next_starts)


@bp.route("/series/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def series_new():
    """Show the new-series form and create the series with its first sessions."""
    form = _with_areas(SeriesForm())
    status = 200
    if form.validate_on_submit():
        data = _with_venue({**form.data, "first_start": form.first_start.data.strftime(WALL)}, form)
        try:
            with unit_of_work() as db_session:
                series = services.create_series(db_session, data, actor=_actor(), zone=local_zone(), now=utcnow(),
                                                horizon=_horizon())
        except MajlisError as exc:
            status = _show_error(form, exc, _PLACE_ALIASES)
        else:
            flash(_("The series was created and its sessions are on the calendar."), "success")
            return redirect(url_for(".series_detail", series_id=series.id))
    else:
        status = _form_status(form)
    return render_template("staff/series_new.html", form=form), status


def _edit_values(series: Series) -> dict:
    """The series' current values as the edit form shows them."""
    return {
        "title_ar": series.title_ar, "title_en": series.title_en,
        "description_ar": (series.description_ar or "").replace("\r\n", "\n").strip(),
        "description_en": (series.description_en or "").replace("\r\n", "\n").strip(),
        "rrule": series.rrule, "start_time": series.first_start_local.time().replace(second=0, microsecond=0),
        "duration_minutes": series.duration_minutes, "capacity": series.capacity,
        "registration_opens_days": series.registration_opens_days,
        "registration_closes_minutes": series.registration_closes_minutes,
        "visibility": series.visibility.value,
        "reminder_minutes": reminder_minutes_of(series),
    }


def _series_changes(form: SeriesEditForm, series: Series) -> dict:
    """Only what the form changed, in the keys edit_series_from takes (a new time becomes `first_start`; the place's
    fields become `format`, `in_person_capacity` and `place`, as for a session)."""
    changes = {name: form[name].data for name, value in _edit_values(series).items()
               if form[name].data != value and form[name].data is not None}  # a field not sent is unchanged
    if "start_time" in changes:
        changes["first_start"] = datetime.combine(form.from_day.data, changes.pop("start_time")).strftime(WALL)
    venue, current = _venue_data(form), _venue_data(SeriesEditForm(formdata=None, data=_venue_values(series)))
    changes.update({name: value for name, value in venue.items() if current.get(name) != value})
    return changes


def _render_series(series: Series, edit_form: SeriesEditForm | None = None, end_form: SeriesEndForm | None = None,
                   status: int = 200):
    db_session = get_db()
    upcoming = services.list_sessions(db_session, services.SessionQuery(start=utcnow(), series_id=series.id),
                                      viewer=current_user, limit=UPCOMING_LIMIT)
    previous, following = services.series_neighbours(db_session, series)
    edit_form = _with_areas(edit_form or SeriesEditForm(formdata=None, data={
        **_edit_values(series), **_venue_values(series), "from_day": _today()}))
    end_form = end_form or SeriesEndForm(formdata=None, data={"last_day": series.ends_on or _today()})
    first_start = series.first_start_local.replace(tzinfo=ZoneInfo(series.timezone))
    return render_template("staff/series_detail.html", series=series, upcoming=upcoming, previous=previous,
                           following=following, first_start=first_start, edit_form=edit_form,
                           end_form=end_form), status


@bp.route("/series/<int:series_id>")
@roles_required(Role.STAFF)
def series_detail(series_id: int):
    """Show a series with its sessions."""
    return _render_series(_series_or_404(get_db(), series_id))


@bp.route("/series/<int:series_id>/edit", methods=["POST"])
@roles_required(Role.STAFF)
def series_edit(series_id: int):
    """Change a series' details and its future sessions."""
    series = _series_or_404(get_db(), series_id)
    form = _with_areas(SeriesEditForm())
    status = 400
    if form.validate_on_submit():
        changes = _series_changes(form, series)
        if not changes:
            flash(_("Nothing to change."), "error")
        else:
            try:
                with unit_of_work() as db_session:
                    target = services.edit_series_from(db_session, series, changes, from_day=form.from_day.data,
                                                       actor=_actor(), now=utcnow(), horizon=_horizon())
            except MajlisError as exc:
                status = _show_error(form, exc, aliases={"first_start": "start_time", **_PLACE_ALIASES})
            else:
                day = local_day(form.from_day.data, "medium")
                if target.id != series_id:
                    flash(_("From %(day)s the sessions follow the new schedule, as a new series.", day=day), "success")
                else:
                    flash(_("The changes apply to the sessions from %(day)s.", day=day), "success")
                return redirect(url_for(".series_detail", series_id=target.id))
    return _render_series(series, edit_form=form, status=status)


@bp.route("/series/<int:series_id>/end", methods=["POST"])
@roles_required(Role.STAFF)
def series_end(series_id: int):
    """End a series on a date, cancelling or dropping the sessions after it."""
    series = _series_or_404(get_db(), series_id)
    form = SeriesEndForm()
    status = 400
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.end_series(db_session, series, last_day=form.last_day.data, actor=_actor(), now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc)
        else:
            flash(_("The series ends after %(day)s.", day=local_day(form.last_day.data, "medium")), "success")
            return redirect(url_for(".series_detail", series_id=series_id))
    return _render_series(series, end_form=form, status=status)


# --- the month view -----------------------------------------------------------------------------------------------


def _month_start(value: str | None) -> date:
    if not value:
        return _today().replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", value, re.ASCII)
    if not match or not services.FIRST_YEAR <= int(match[1]) <= services.LAST_YEAR or not 1 <= int(match[2]) <= 12:
        raise InvalidInput(_l("Choose a month as YYYY-MM."), field="month")
    return date(int(match[1]), int(match[2]), 1)


def _week_start() -> int:
    """The first day of the governorate's week (0 = Monday ... 5 = Saturday, 6 = Sunday)."""
    return current_app.config["MAJLIS_WEEK_START"]


def week_of(day: date, first_weekday: int) -> date:
    """Return the first day of the week (starting on `first_weekday`) that holds `day`."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def _weekday_names(first_weekday: int) -> list[tuple[str, str]]:
    """The week's days in order from its first: (wide name, abbreviated name) in the page's language."""
    wide = get_day_names("wide", locale=current_lang())
    short = get_day_names("abbreviated", locale=current_lang())
    return [(wide[(first_weekday + i) % 7], short[(first_weekday + i) % 7]) for i in range(7)]


def _sessions_by_day(first: date, following: date) -> dict[date, list[MajlisSession]]:
    """The sessions staff see that start on the local days [first, following), by day, in time order."""
    zone = local_zone()
    query = services.SessionQuery(start=datetime.combine(first, time(0, 0), tzinfo=zone),
                                  end=datetime.combine(following, time(0, 0), tzinfo=zone))
    by_day: dict[date, list[MajlisSession]] = {}
    for row in services.list_sessions(get_db(), query, viewer=current_user, limit=2000):
        day = to_local(row.starts_at, zone).date()
        if first <= day < following:
            by_day.setdefault(day, []).append(row)
    return by_day


def _hijri_short(day: date, with_month: bool) -> str:
    """The Hijri day of the month for a calendar cell; with the month's name on its first day (or when asked)."""
    try:
        _year, month, mday = hijri_date(day, current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"])
    except (OverflowError, ValueError):
        return ""
    if not (with_month or mday == 1):
        return str(mday)
    months = HIJRI_MONTHS_EN if current_lang() == "en" else HIJRI_MONTHS_AR
    return f"{mday} {months[month - 1]}"


@bp.context_processor
def _grid_helpers():
    return {"hijri_short": _hijri_short}


@bp.route("/calendar")
@roles_required(Role.STAFF)
def month():
    """Show a month of sessions as a calendar grid, a week a row."""
    first = _month_start(request.args.get("month"))
    following = (first + timedelta(days=31)).replace(day=1)
    by_day = _sessions_by_day(first, following)
    first_weekday = _week_start()
    weeks, day = [], week_of(first, first_weekday)
    while day < following:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    previous = (first - timedelta(days=1)).replace(day=1)
    today = _today()
    return render_template("staff/month.html", first=first, following=following, previous=previous, weeks=weeks,
                           last=following - timedelta(days=1),
                           by_day=by_day, weekdays=_weekday_names(first_weekday),
                           is_current=first == today.replace(day=1), today=today,
                           week_day=today if first == today.replace(day=1) else first)


def _week_day(value: str | None) -> date:
    return services.parse_day(value, "day") if value else _today()


@bp.route("/calendar/week")
@roles_required(Role.STAFF)
def week():
    """Show the sessions of one week, a column a day, in time order."""
    first_weekday = _week_start()
    first = week_of(_week_day(request.args.get("day")), first_weekday)
    days = [first + timedelta(days=i) for i in range(7)]
    following = first + timedelta(days=7)
    return render_template("staff/week.html", first=first, days=days, by_day=_sessions_by_day(first, following),
                           weekdays=_weekday_names(first_weekday), previous=first - timedelta(days=7),
                           following=following, today=_today(), is_current=first <= _today() < following)


@bp.route("/calendar/export.ics")
@roles_required(Role.STAFF)
def export_ics():
    """Download every session staff see (invitation-only and cancelled ones too) as one iCalendar file."""
    from majlis.calendar.services import export_calendar, feed_context, ics_response

    query = services.session_query(request.args, local_zone())
    _count, body = export_calendar(get_db(), query, feed_context(), viewer=current_user)
    return ics_response(body, filename=f"majlis-sessions-{_today().isoformat()}.ics", private=True,
                        attachment=True)


# --- single sessions ----------------------------------------------------------------------------------------------


def _session_values(row: MajlisSession) -> dict:
    return {
        "starts_at": _wall_of(row.starts_at), "ends_at": _wall_of(row.ends_at), "capacity": row.capacity,
        "registration_opens_at": _wall_of(row.registration_opens_at),
        "registration_closes_at": _wall_of(row.registration_closes_at),
        "stream_url": row.stream_url or "", "public_viewing": row.public_viewing,
    }


def _venue_values(row: MajlisSession | Series) -> dict:
    """A session's or series' format, hall seats and place as the venue fields show them."""
    return {"format": row.format.value, "in_person_capacity": row.in_person_capacity or None,
            "place_name_ar": row.place_name_ar or "", "place_name_en": row.place_name_en or "",
            "place_address": row.place_address or "",
            "place_area_id": str(row.place_area_id) if row.place_area_id else "",
            "latitude": row.latitude, "longitude": row.longitude}


_PLACE_FIELDS = {"place_name_ar": "name_ar", "place_name_en": "name_en", "place_address": "address",
                 "place_area_id": "area_id", "latitude": "lat", "longitude": "lon"}
# A refusal of a place's part is shown next to its field.
_PLACE_ALIASES = {f"place.{key}": name for name, key in _PLACE_FIELDS.items()} | {"place": "place_name_ar"}


def _venue_data(form) -> dict:
    """The form's format, hall seats and place as the services take them (none of the place for an online one)."""
    if form.format.data == "online":
        return {"format": "online"}
    place = {key: form[name].data for name, key in _PLACE_FIELDS.items()}
    for key in ("lat", "lon"):
        place[key] = float(place[key]) if place[key] is not None else None
    return {"format": form.format.data, "in_person_capacity": form.in_person_capacity.data, "place": place}


def _with_venue(data: dict, form) -> dict:
    """Return a form's data for a create service: its flat place fields (and CSRF token) become `_venue_data`."""
    kept = {name: value for name, value in data.items() if name not in ("csrf_token", *_PLACE_FIELDS)}
    return {**kept, **_venue_data(form)}


def _with_areas(form):
    form.place_area_id.choices = [("", _("— none —")), *area_options()]
    return form


_AS_GIVEN = frozenset({"capacity", "stream_url", "public_viewing"})  # the rest are wall times


def _render_session(row: MajlisSession, update_form=None, cancel_form=None, status: int = 200):
    update_form = update_form or SessionUpdateForm(formdata=None, data={**_session_values(row), **_venue_values(row)})
    _with_areas(update_form)
    cancel_form = cancel_form or CancelForm(formdata=None)
    return render_template("staff/session.html", majlis_session=row, update_form=update_form,
                           cancel_form=cancel_form), status


@bp.route("/sessions/<int:session_id>")
@roles_required(Role.STAFF)
def session_manage(session_id: int):
    """Show a session's management page."""
    return _render_session(_session_or_404(get_db(), session_id))


@bp.route("/sessions/<int:session_id>/update", methods=["POST"])
@roles_required(Role.STAFF)
def session_update(session_id: int):
    """Change a session's times, capacity, registration window or viewing."""
    row = _session_or_404(get_db(), session_id)
    form = _with_areas(SessionUpdateForm())
    status = 400
    if form.validate_on_submit():
        zone = local_zone()
        changed = {name: form[name].data for name, value in _session_values(row).items()
                   if form[name].data != value and (form[name].data or "") != (value or "")}
        data = {name: value if name in _AS_GIVEN else _instant_text(value, zone) for name, value in changed.items()}
        venue, current = _venue_data(form), _venue_data(SessionUpdateForm(formdata=None, data=_venue_values(row)))
        data.update({name: value for name, value in venue.items() if current.get(name) != value})
        try:
            with unit_of_work() as db_session:
                services.update_session(db_session, row, data, actor=_actor(), zone=zone, now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc, _PLACE_ALIASES)
        else:
            flash(_("The session was updated."), "success")
            if row.confirmed_count > row.capacity:
                flash(_("%(count)s residents already hold a seat, more than the new capacity: nobody loses theirs, "
                        "and newcomers wait until fewer than %(capacity)s hold one.",
                        count=row.confirmed_count, capacity=row.capacity), "info")
            return redirect(url_for(".session_manage", session_id=session_id))
    return _render_session(row, update_form=form, status=status)


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(Role.STAFF)
def session_cancel(session_id: int):
    """Cancel a session with a reason residents will see."""
    row = _session_or_404(get_db(), session_id)
    form = CancelForm()
    status = 400
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.cancel_session(db_session, row, reason=form.reason.data, actor=_actor(), now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc)
        else:
            flash(_("The session was cancelled. Registered residents are notified, and its page shows the reason."),
                  "success")
            return redirect(url_for(".session_manage", session_id=session_id))
    return _render_session(row, cancel_form=form, status=status)


@bp.route("/sessions/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def session_new():
    """Show the one-off session form and create the session."""
    form = _with_areas(OneOffForm())
    status = 200
    if form.validate_on_submit():
        zone = local_zone()
        data = _with_venue({**form.data, **{name: _instant_text(form[name].data, zone)
                                            for name in ("starts_at", "registration_opens_at",
                                                         "registration_closes_at")}}, form)
        try:
            with unit_of_work() as db_session:
                row = services.create_one_off(db_session, data, actor=_actor(), zone=zone, now=utcnow())
        except MajlisError as exc:
            status = _show_error(form, exc, _PLACE_ALIASES)
        else:
            flash(_("The session was added to the calendar."), "success")
            return redirect(url_for(".session_manage", session_id=row.id))
    else:
        status = _form_status(form)
    return render_template("staff/session_new.html", form=form), status
