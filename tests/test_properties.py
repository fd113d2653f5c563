"""Properties of the pure builders, checked on random input: recurrence expansion, the ICS builder, normalize()."""

from __future__ import annotations

import calendar as month_calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from majlis.arabic import normalize
from majlis.calendar.ical import EventInfo, FeedInfo, SeriesInfo, build_calendar
from majlis.sessions.recurrence import occurrences

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None)
ZONES = [ZoneInfo("Asia/Bahrain"), ZoneInfo("Europe/London")]  # no DST, and DST with a gap and an overlap
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

# --- recurrence ---------------------------------------------------------------------------------------------------


def weekly_rule(days: list[str], interval: int):
    """An RRULE and, independently of dateutil, which local days it names (weeks start on Monday: WKST=MO)."""
    weekdays = {DAYS.index(day) for day in days}

    def matches(day: date, first: date) -> bool:
        weeks = ((day - timedelta(days=day.weekday())) - (first - timedelta(days=first.weekday()))).days // 7
        return day.weekday() in weekdays and weeks % interval == 0

    return f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(days)}", matches


def _month_ok(day: date, first: date, interval: int) -> bool:
    return ((day.year - first.year) * 12 + day.month - first.month) % interval == 0


def monthly_by_weekday(weekday: int, nth: int, interval: int):
    """E.g. BYDAY=2TU (the second Tuesday) or BYDAY=-1FR (the last Friday)."""

    def matches(day: date, first: date) -> bool:
        last_day = month_calendar.monthrange(day.year, day.month)[1]
        in_place = (day.day - 1) // 7 + 1 == nth if nth > 0 else day.day + 7 > last_day
        return day.weekday() == weekday and in_place and _month_ok(day, first, interval)

    return f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={nth}{DAYS[weekday]}", matches


def monthly_by_day(month_day: int, interval: int):
    """BYMONTHDAY=d; 29 to 31 skip the months without that day."""

    def matches(day: date, first: date) -> bool:
        return day.day == month_day and _month_ok(day, first, interval)

    return f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={month_day}", matches


intervals = st.integers(1, 3)
rules = st.one_of(
    st.builds(weekly_rule, st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True), intervals),
    st.builds(monthly_by_weekday, st.integers(0, 6), st.sampled_from([1, 2, 3, 4, -1]), intervals),
    st.builds(monthly_by_day, st.integers(1, 31), intervals),
)
# 01:00 and 01:30 fall in London's spring gap and autumn overlap (last Sundays of March and October).
wall_times = st.one_of(st.sampled_from([time(1, 0), time(1, 30)]),
                       st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])))
LONDON = ZONES[1]


def _rfc5545_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """RFC 5545 3.3.5: an ambiguous wall time is its first occurrence; one in a gap takes the offset before it."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@PROPERTY_SETTINGS
@given(rule=rules, zone=st.sampled_from(ZONES), first_day=st.dates(date(2024, 6, 1), date(2027, 6, 1)),
       first_time=wall_times, offset_hours=st.integers(-30 * 24, 400 * 24), length_days=st.integers(7, 150))
# Every last Sunday at 01:30 in London: one in the spring gap (29 March) and one in the overlap (25 October).
@example(rule=monthly_by_weekday(6, -1, 1), zone=LONDON, first_day=date(2026, 1, 25), first_time=time(1, 30),
         offset_hours=0, length_days=330)
def test_occurrences_are_exactly_the_rules_wall_times_in_the_window(rule, zone, first_day, first_time,
                                                                    offset_hours, length_days):
    text, matches = rule
    first = datetime.combine(first_day, first_time)
    # A window near the series' start (before it, too), in UTC, at any hour.
    start = datetime.combine(first_day, time(0, 0), tzinfo=UTC) + timedelta(hours=offset_hours)
    end = start + timedelta(days=length_days)
    found = occurrences(text, first, zone, start, end)
    instants = [instant for _, instant in found]

    assert instants == sorted(instants)
    assert len(set(instants)) == len(instants)
    for local, instant in found:
        assert start <= instant < end
        assert local.tzinfo is None and local.time() == first_time  # the wall time does not drift across DST
        assert local >= first and matches(local.date(), first_day)
        assert instant == _rfc5545_instant(local, zone)
        round_trip = instant.astimezone(zone).replace(tzinfo=None)
        assert round_trip == local or _in_gap(local, zone)

    # Nothing missing: every day of the window that the rule names is there (an independent day-by-day count).
    expected = []
    day = max(first_day, (start - timedelta(days=1)).date())
    while day <= (end + timedelta(days=1)).date():
        if matches(day, first_day):
            instant = _rfc5545_instant(datetime.combine(day, first_time), zone)
            if start <= instant < end:
                expected.append(instant)
        day += timedelta(days=1)
    assert instants == expected


def _in_gap(local: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall time does not exist in the zone (skipped when clocks go forward)."""
    return local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local


# --- the ICS builder ----------------------------------------------------------------------------------------------

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئىةًٌٍَُِّْـ"
EMOJI = "🕌🌙⭐👍🏽🇧🇭"
# What residents and staff type: Arabic, Latin, digits and the characters RFC 5545 TEXT must escape.
texts = st.text(alphabet=st.sampled_from(list(ARABIC + EMOJI + "abcXYZ019 ,;:\\\"'/\n\r\t.-_()")), max_size=300)
titles = texts.filter(lambda value: value.strip())


def _as_ical_text(value: str) -> str:
    """Line breaks of any kind come back as \\n: RFC 5545 TEXT has only the escaped \\n."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _unescape(value) -> str:
    """RFC 5545 TEXT unescaping, for NAME and X-WR-*: icalendar 7.3 parses those as unknown and leaves them escaped."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value.to_ical().decode())


def _lines(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\r\n")
    return raw[:-2].split(b"\r\n")


@st.composite
def events(draw, event_id: int):
    # As the database gives them: UTC, whole seconds (iCalendar has no fractions).
    starts_at = draw(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),  # noqa: DTZ001
                                  timezones=st.just(UTC))).replace(microsecond=0)
    stamp = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8)))
    return EventInfo(id=event_id, summary=draw(titles), description=draw(texts),
                     url=f"https://majlis.example.bh/sessions/{event_id}", starts_at=starts_at,
                     ends_at=starts_at + timedelta(minutes=draw(st.integers(1, 600))), stamp=stamp, created=stamp,
                     sequence=draw(st.integers(0, 50)))


@PROPERTY_SETTINGS
@given(feed_name=titles, feed_description=texts, timezone=st.sampled_from(["Asia/Bahrain", "Europe/London"]),
       items=st.lists(st.integers(1, 10**6), min_size=1, max_size=3, unique=True).flatmap(
           lambda ids: st.tuples(*[events(event_id) for event_id in ids])),
       series_title=titles, series_description=texts)
def test_ics_text_and_times_survive_a_round_trip(feed_name, feed_description, timezone, items, series_title,
                                                 series_description):
    feed = FeedInfo(name=feed_name, description=feed_description, uid="majlis-test@majlis.example.bh",
                    domain="majlis.example.bh", timezone=timezone, organizer_email="majlis@example.bh",
                    organizer_name="مكتب المحافظ")
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    series = SeriesInfo(id=7, summary=series_title, description=series_description,
                        url="https://majlis.example.bh/series/7", rrule="FREQ=WEEKLY;BYDAY=TU",
                        master_start=datetime(2026, 1, 6, 16, 0, tzinfo=UTC), duration=timedelta(minutes=90),
                        stamp=stamp, created=stamp)
    raw = build_calendar(feed, series=[series], events=list(items))

    # Octets on the wire: CRLF line ends only, every line folded to at most 75 octets.
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in _lines(raw)), [line for line in _lines(raw) if len(line) > 75]

    parsed = Calendar.from_ical(raw)
    assert _unescape(parsed["X-WR-CALNAME"]) == _as_ical_text(feed_name)
    assert _unescape(parsed["NAME"]) == _as_ical_text(feed_name)
    assert str(parsed["DESCRIPTION"]) == _as_ical_text(feed_description)
    assert _unescape(parsed["X-WR-CALDESC"]) == _as_ical_text(feed_description)
    by_uid = {str(event["UID"]): event for event in parsed.walk("VEVENT")}
    master = by_uid["series-7@majlis.example.bh"]
    assert str(master["SUMMARY"]) == _as_ical_text(series_title)
    assert master["DTSTART"].dt == series.master_start
    for item in items:
        event = by_uid[f"session-{item.id}@majlis.example.bh"]
        assert str(event["SUMMARY"]) == _as_ical_text(item.summary)
        description = "\n\n".join([*([item.description.strip()] if item.description.strip() else []), item.url])
        assert str(event["DESCRIPTION"]) == _as_ical_text(description)
        assert event["DTSTART"].dt == item.starts_at and event["DTEND"].dt == item.ends_at
        assert str(event["DTSTART"].params["TZID"]) == timezone  # local time with TZID, never floating or UTC


# --- the Arabic normaliser ----------------------------------------------------------------------------------------

LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءةىؤئ"
ALEFS = "اأإآٱ"
# Tanween, the short vowels, shadda, sukun, dagger alef; and tatweel.
MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640"
arabic_text = st.text(alphabet=st.sampled_from(list(LETTERS + ALEFS + "٠١٢٣٤٥٦٧٨٩0123456789 abcABC؟،.!-\n")),
                      max_size=80)


@PROPERTY_SETTINGS
@given(text=st.one_of(arabic_text, st.text(max_size=80)))
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@PROPERTY_SETTINGS
@given(text=arabic_text, data=st.data())
def test_diacritics_and_tatweel_never_change_the_result(text, data):
    decorated = "".join(char + "".join(data.draw(st.lists(st.sampled_from(MARKS), max_size=2), label="marks"))
                        for char in text)
    assert normalize(decorated) == normalize(text)


@PROPERTY_SETTINGS
@given(text=arabic_text, data=st.data())
def test_every_alef_form_compares_equal(text, data):
    varied = "".join(data.draw(st.sampled_from(ALEFS), label="alef") if char in ALEFS else char for char in text)
    assert normalize(varied) == normalize(text)
