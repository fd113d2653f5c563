"""The staff calendar as a grid: the month (a week a row, from the governorate's first weekday), the week (a column
a day), and the one-click download of every session."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from majlis.db import unit_of_work
from majlis.enums import Role, SessionStatus, Visibility
from tests import factories

BAHRAIN = ZoneInfo("Asia/Bahrain")


@dataclass
class Cell:
    classes: set[str]
    attrs: dict
    day: str | None = None  # the <time datetime> of the cell's date
    links: list[str] = field(default_factory=list)
    text: str = ""


class GridReader(HTMLParser):
    """The header row and the body rows of the page's calendar table, each body cell with its date and links."""

    def __init__(self, table_class: str):
        super().__init__()
        self.table_class, self.inside, self.depth = table_class, False, 0
        self.headers: list[str] = []
        self.rows: list[list[Cell]] = []
        self.cell: Cell | None = None
        self.header: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.table_class in (attrs.get("class") or "").split():
            self.inside = True
        if not self.inside:
            return
        if tag == "tr" and self.header is None and not self.headers:
            self.pending_row = []
        if tag == "th":
            assert attrs.get("scope") == "col"
            self.header = []
        elif tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = Cell(set((attrs.get("class") or "").split()), attrs)
        elif tag == "time" and self.cell is not None and self.cell.day is None:
            self.cell.day = attrs["datetime"]
        elif tag == "a" and self.cell is not None:
            self.cell.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "th":
            self.headers.append("".join(self.header).strip())
            self.header = None
        elif tag == "td":
            self.rows[-1].append(self.cell)
            self.cell = None
        elif tag == "table":
            self.inside = False
            self.rows = [row for row in self.rows if row]

    def handle_data(self, data):
        if self.header is not None:
            self.header.append(data)
        elif self.cell is not None:
            self.cell.text += data


def grid(html: str, table_class: str) -> GridReader:
    reader = GridReader(table_class)
    reader.feed(html)
    assert reader.rows, "no calendar table on the page"
    return reader


def cell_of(reader: GridReader, day: date) -> tuple[int, int, Cell]:
    for r, row in enumerate(reader.rows):
        for c, cell in enumerate(row):
            if cell.day == day.isoformat():
                return r, c, cell
    raise AssertionError(f"{day} is not on the page")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BAHRAIN)


@pytest.fixture
def staff(client, make_user, login_as):
    login_as(make_user(role=Role.STAFF))
    client.get("/?lang=en")
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# --- the month ----------------------------------------------------------------------------------------------------


def test_the_month_is_a_grid_of_weeks_from_saturday_with_each_session_in_its_day(staff, db):
    # December 2027: the 1st is a Wednesday; the governorate's week (ar_BH) starts on Saturday.
    with unit_of_work(db):
        first = factories.majlis_session(db, starts_at=at(date(2027, 12, 1), 18), title_en="First of December")
        mid = factories.majlis_session(db, starts_at=at(date(2027, 12, 14), 19, 30), title_en="Mid December")
        late = factories.majlis_session(db, starts_at=at(date(2027, 12, 14), 9), title_en="Morning talk")
        last = factories.majlis_session(db, starts_at=at(date(2027, 12, 31), 20), title_en="Year end")
        before = factories.majlis_session(db, starts_at=at(date(2027, 11, 30), 18), title_en="End of November")
        after = factories.majlis_session(db, starts_at=at(date(2028, 1, 1), 10), title_en="New year")
    reader = grid(page(staff, "/staff/calendar?month=2027-12"), "cal-month")

    assert reader.headers == ["Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri"]
    assert all(len(row) == 7 for row in reader.rows) and len(reader.rows) == 5
    assert reader.rows[0][0].day == "2027-11-27" and reader.rows[-1][-1].day == "2027-12-31"
    # The 1st (a Wednesday) is in the first week's fifth column; the 14th (a Tuesday) in the third week's fourth.
    row, column, cell = cell_of(reader, date(2027, 12, 1))
    assert (row, column) == (0, 4) and cell.links == [f"/staff/sessions/{first.id}"]
    row, column, cell = cell_of(reader, date(2027, 12, 14))
    assert (row, column) == (2, 3)
    assert cell.links == [f"/staff/sessions/{late.id}", f"/staff/sessions/{mid.id}"]  # in time order
    assert "9:00\u202fAM" in cell.text and "7:30\u202fPM" in cell.text
    assert cell_of(reader, date(2027, 12, 31))[2].links == [f"/staff/sessions/{last.id}"]
    # The days around the month are shown, dimmed, without sessions (they are on their own month's page).
    _r, _c, november = cell_of(reader, date(2027, 11, 30))
    assert "is-outside" in november.classes and november.links == []
    assert "is-outside" not in cell_of(reader, date(2027, 12, 1))[2].classes
    html = page(staff, "/staff/calendar?month=2027-12")
    for other in (before, after):
        assert f"/staff/sessions/{other.id}" not in html
    assert f"/staff/sessions/{before.id}" in page(staff, "/staff/calendar?month=2027-11")


def test_the_week_start_follows_the_configuration(app, staff):
    app.config["MAJLIS_WEEK_START"] = 6  # Sunday (as in ar_SA)
    reader = grid(page(staff, "/staff/calendar?month=2027-12"), "cal-month")
    assert reader.headers[0] == "Sun" and reader.rows[0][0].day == "2027-11-28"


def test_cancelled_moved_invited_and_live_sessions_are_marked_in_their_cells(staff, db):
    day = date(2027, 12, 8)
    with unit_of_work(db):
        cancelled = factories.majlis_session(db, starts_at=at(day, 18), status=SessionStatus.CANCELLED,
                                             cancel_reason="The governor is travelling")
        invited = factories.majlis_session(db, starts_at=at(day + timedelta(days=1), 18),
                                           visibility=Visibility.INVITED, title_en="Coordination")
        moved = factories.majlis_session(db, starts_at=at(day + timedelta(days=2), 18),
                                         original_starts_at=at(day + timedelta(days=2), 16))
    reader = grid(page(staff, "/staff/calendar?month=2027-12"), "cal-month")
    cell = cell_of(reader, day)[2]
    assert cell.links == [f"/staff/sessions/{cancelled.id}"] and "Cancelled" in cell.text
    assert "The governor is travelling" in cell.text
    cell = cell_of(reader, day + timedelta(days=1))[2]
    assert cell.links == [f"/staff/sessions/{invited.id}"] and "By invitation" in cell.text
    cell = cell_of(reader, day + timedelta(days=2))[2]
    assert cell.links == [f"/staff/sessions/{moved.id}"] and "Moved" in cell.text


def test_a_live_session_is_marked_and_today_is_marked(staff, db):
    now = datetime.now(BAHRAIN)
    with unit_of_work(db):
        live = factories.majlis_session(db, starts_at=now - timedelta(minutes=10), status=SessionStatus.LIVE)
    reader = grid(page(staff, "/staff/calendar"), "cal-month")
    _r, _c, cell = cell_of(reader, live.starts_at.astimezone(BAHRAIN).date())
    assert "Live now" in cell.text
    _r, _c, today = cell_of(reader, now.date())
    assert "is-today" in today.classes and today.attrs.get("aria-current") == "date" and "Today" in today.text
    assert sum(1 for row in reader.rows for c in row if "is-today" in c.classes) == 1


def test_the_month_keeps_its_navigation_and_links_to_the_week_view(staff):
    html = page(staff, "/staff/calendar?month=2027-12")
    assert 'href="/staff/calendar?month=2027-11"' in html and 'href="/staff/calendar?month=2028-01"' in html
    assert 'href="/staff/calendar"' in html  # this month
    assert 'href="/staff/calendar/week?day=2027-12-01"' in html


def test_the_hijri_day_is_in_each_cell(staff):
    reader = grid(page(staff, "/staff/calendar?month=2027-12"), "cal-month")
    # 1 December 2027 is 3 Rajab 1449 (Umm al-Qura).
    assert "3 Rajab 1449 AH" in cell_of(reader, date(2027, 12, 1))[2].text


# --- the week -----------------------------------------------------------------------------------------------------


def test_the_week_shows_seven_days_from_saturday_with_the_sessions_in_time_order(staff, db):
    with unit_of_work(db):
        evening = factories.majlis_session(db, starts_at=at(date(2027, 12, 14), 19), title_en="Evening")
        morning = factories.majlis_session(db, starts_at=at(date(2027, 12, 14), 8), title_en="Morning")
        friday = factories.majlis_session(db, starts_at=at(date(2027, 12, 17), 16), title_en="Friday visit")
        next_week = factories.majlis_session(db, starts_at=at(date(2027, 12, 18), 16), title_en="Next Saturday")
    html = page(staff, "/staff/calendar/week?day=2027-12-14")
    reader = grid(html, "cal-week")
    assert reader.headers[0] == "Saturday" and len(reader.rows) == 1
    assert [c.day for c in reader.rows[0]] == [(date(2027, 12, 11) + timedelta(days=i)).isoformat() for i in range(7)]
    assert reader.rows[0][3].links == [f"/staff/sessions/{morning.id}", f"/staff/sessions/{evening.id}"]
    assert reader.rows[0][6].links == [f"/staff/sessions/{friday.id}"]
    assert f"/staff/sessions/{next_week.id}" not in html
    # Previous and next week, and the month it starts in.
    assert 'href="/staff/calendar/week?day=2027-12-04"' in html and 'href="/staff/calendar/week?day=2027-12-18"' in html
    assert 'href="/staff/calendar?month=2027-12"' in html
    following = grid(page(staff, "/staff/calendar/week?day=2027-12-18"), "cal-week")
    assert following.rows[0][0].links == [f"/staff/sessions/{next_week.id}"]


def test_the_week_across_two_months_and_the_current_week(staff):
    reader = grid(page(staff, "/staff/calendar/week?day=2028-01-01"), "cal-week")
    assert reader.rows[0][0].day == "2028-01-01" and reader.rows[0][-1].day == "2028-01-07"
    reader = grid(page(staff, "/staff/calendar/week?day=2027-12-31"), "cal-week")
    assert reader.rows[0][0].day == "2027-12-25" and reader.rows[0][-1].day == "2027-12-31"
    today = datetime.now(BAHRAIN).date()
    reader = grid(page(staff, "/staff/calendar/week"), "cal-week")
    assert today.isoformat() in [c.day for c in reader.rows[0]]


@pytest.mark.parametrize("value", ["2027-13-01", "tomorrow", "1999-01-01"])
def test_a_bad_week_day_is_a_400_with_the_reason(staff, value):
    response = staff.get(f"/staff/calendar/week?day={value}")
    assert response.status_code == 400
    assert "Enter a date" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.MODERATOR, Role.OFFICIAL])
@pytest.mark.parametrize("path", ["/staff/calendar/week", "/staff/calendar/export.ics"])
def test_the_week_and_the_export_need_staff(client, make_user, login_as, path, role):
    assert client.get(path).status_code == 401
    login_as(make_user(role=role))
    response = client.get(path)
    assert response.status_code == 403 and b"BEGIN:VCALENDAR" not in response.data


# --- the download -------------------------------------------------------------------------------------------------


def events(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def test_staff_download_every_session_including_invited_and_cancelled(staff, db):
    now = datetime.now(BAHRAIN)
    with unit_of_work(db):
        factories.majlis_session(db, starts_at=now + timedelta(days=3), title_ar="عام")
        factories.majlis_session(db, starts_at=now + timedelta(days=4), title_ar="بدعوة",
                                 visibility=Visibility.INVITED)
        factories.majlis_session(db, starts_at=now + timedelta(days=5), title_ar="ملغاة",
                                 status=SessionStatus.CANCELLED, cancel_reason="سفر")
        factories.majlis_session(db, starts_at=now - timedelta(days=40), title_ar="سابقة",
                                 status=SessionStatus.ENDED)
    html = page(staff, "/staff/calendar")
    assert 'href="/staff/calendar/export.ics"' in html
    response = staff.get("/staff/calendar/export.ics?lang=ar")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="majlis-sessions-{now.date().isoformat()}.ics"'
    assert "private" in response.headers["Cache-Control"]
    found = events(response.data)
    assert set(found) == {"عام", "بدعوة", "ملغاة", "سابقة"}
    assert found["ملغاة"]["STATUS"] == "CANCELLED" and found["عام"]["STATUS"] == "CONFIRMED"


def test_the_download_of_one_month_holds_that_month_only(staff, db):
    with unit_of_work(db):
        factories.majlis_session(db, starts_at=at(date(2027, 12, 31), 20), title_ar="ديسمبر")
        factories.majlis_session(db, starts_at=at(date(2028, 1, 1), 10), title_ar="يناير")
    html = page(staff, "/staff/calendar?month=2027-12")
    link = "/staff/calendar/export.ics?from=2027-12-01&amp;to=2027-12-31"
    assert f'href="{link}"' in html
    response = staff.get(link.replace("&amp;", "&") + "&lang=ar")
    assert set(events(response.data)) == {"ديسمبر"}
    assert staff.get("/staff/calendar/export.ics?from=2027-12-31&to=2027-12-01").status_code == 400


def test_the_cli_export_and_the_download_are_the_same_calendar(staff, db, runner):
    with unit_of_work(db):
        factories.majlis_session(db, starts_at=at(date(2027, 12, 8), 18), visibility=Visibility.INVITED)
    cli = runner.invoke(args=["export-ics", "--from", "2027-12-01", "--to", "2027-12-31"])
    web = staff.get("/staff/calendar/export.ics?from=2027-12-01&to=2027-12-31&lang=ar")
    assert cli.exit_code == 0
    assert [e["UID"] for e in Calendar.from_ical(cli.stdout_bytes).walk("VEVENT")] == \
        [e["UID"] for e in Calendar.from_ical(web.data).walk("VEVENT")]
