"""The accountability dashboard: figures computed by hand for eleven cases over January–March 2027, by body, area,
channel, category and month, in the service, the JSON and the page."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from majlis.db import unit_of_work
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome
from majlis.followups import dashboard
from majlis.followups.models import Case, CaseFeedback

BAHRAIN = ZoneInfo("Asia/Bahrain")
NOW = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)
START, END = date(2027, 1, 1), date(2027, 3, 31)


def utc(month, day, hour=9, minute=0, year=2027):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


S, C = CaseStatus, CaseChannel
# number: (body, category, area, channel, opened, due, resolved, status, reopened)
CASES = {
    1: ("works", "street-lighting", "juffair", C.PHONE, utc(1, 5), date(2027, 1, 15), utc(1, 10), S.RESOLVED, 0),
    # Resolved at 22:30 UTC on its due day: 01:30 the next day in Bahrain, so late.
    2: ("works", "roads", "juffair", C.APP, utc(1, 20), date(2027, 2, 3), utc(2, 3, 22, 30), S.CONFIRMED, 0),
    3: ("works", "roads", "seef", C.FIELD_VISIT, utc(2, 1, 6), date(2027, 2, 15), None, S.IN_PROGRESS, 1),
    4: ("health", "public-health", "seef", C.MAJLIS, utc(2, 10), date(2027, 2, 17), utc(2, 16), S.RESOLVED, 0),
    5: ("health", "public-health", None, C.APP, utc(3, 2), date(2027, 3, 9), utc(3, 20), S.RESOLVED, 0),
    6: ("health", "home-care", "juffair", C.PHONE, utc(3, 15), date(2027, 4, 5), None, S.OPEN, 0),
    7: ("works", "street-lighting", "juffair", C.APP, utc(12, 20, year=2026), date(2027, 1, 10), utc(1, 8),
        S.RESOLVED, 0),
    8: ("works", "street-lighting", "seef", C.PHONE, utc(3, 28), date(2027, 4, 7), None, S.OPEN, 0),
    9: ("works", "roads", "juffair", C.MAJLIS, utc(4, 2), date(2027, 4, 16), None, S.OPEN, 0),
    # Waiting for triage: not yet a body's case, so in none of the figures (only "awaiting triage").
    10: ("works", "street-lighting", "juffair", C.APP, utc(3, 30), date(2027, 4, 9), None, S.SUBMITTED, 0),
    # Opened at 22:00 UTC on 31 January (1 February in Bahrain), resolved at 01:00 on its due day in Bahrain.
    11: ("health", "public-health", "seef", C.EMAIL, utc(1, 31, 22), date(2027, 2, 8), utc(2, 7, 22), S.RESOLVED,
         0),
}
# case: (round, outcome, rating, given at)
FEEDBACK = [
    (1, 0, FeedbackOutcome.FIXED, 5, utc(1, 13)),
    (2, 0, FeedbackOutcome.FIXED, 4, utc(2, 20)),
    (3, 0, FeedbackOutcome.NOT_FIXED, 1, utc(2, 12)),
    (4, 0, FeedbackOutcome.PARTLY_FIXED, 2, utc(2, 25)),
    (5, 0, FeedbackOutcome.PARTLY_FIXED, None, utc(3, 25)),
    (7, 0, FeedbackOutcome.FIXED, None, utc(1, 9)),
]

# Worked out by hand from the tables above (see the module docstring of majlis/followups/dashboard.py).
# key: (opened, open, overdue, closed on time, closed late, median days, (answers, fixed, partly, not fixed, rating))
EXPECTED = {
    "body": {
        "works": (4, 2, 1, 2, 1, 14.6, (4, 3, 0, 1, 3.3)),  # medians of 5, 14.5625, 19
        "health": (4, 1, 0, 2, 1, 7.0, (2, 0, 2, 0, 2.0)),  # 6, 7, 18
    },
    "area": {
        "juffair": (3, 1, 0, 2, 1, 14.6, (3, 3, 0, 0, 4.5)),
        "seef": (4, 2, 1, 2, 0, 6.5, (2, 0, 1, 1, 1.5)),
        None: (1, 0, 0, 0, 1, 18.0, (1, 0, 1, 0, None)),
    },
    "channel": {
        "majlis": (1, 0, 0, 1, 0, 6.0, (1, 0, 1, 0, 2.0)),
        "field_visit": (1, 1, 1, 0, 0, None, (1, 0, 0, 1, 1.0)),
        "app": (2, 0, 0, 1, 2, 18.0, (3, 2, 1, 0, 4.0)),
        "website": (0, 0, 0, 0, 0, None, (0, 0, 0, 0, None)),
        "phone": (3, 2, 0, 1, 0, 5.0, (1, 1, 0, 0, 5.0)),
        "social_media": (0, 0, 0, 0, 0, None, (0, 0, 0, 0, None)),
        "email": (1, 0, 0, 1, 0, 7.0, (0, 0, 0, 0, None)),
    },
    "category": {
        "street-lighting": (2, 1, 0, 2, 0, 12.0, (2, 2, 0, 0, 5.0)),
        "roads": (2, 1, 1, 0, 1, 14.6, (2, 1, 0, 1, 2.5)),
        "public-health": (3, 0, 0, 2, 1, 7.0, (2, 0, 2, 0, 2.0)),
        "home-care": (1, 1, 0, 0, 0, None, (0, 0, 0, 0, None)),
    },
    "month": {
        "2027-01": (2, 1, 0, 2, 0, 12.0, (2, 2, 0, 0, 5.0)),
        "2027-02": (3, 1, 1, 2, 1, 7.0, (3, 1, 1, 1, 2.3)),
        "2027-03": (3, 3, 1, 0, 1, 18.0, (1, 0, 1, 0, None)),
    },
}
TOTALS = (8, 3, 1, 4, 2, 10.8, (6, 3, 2, 1, 3.0))  # median of 5, 6, 7, 14.5625, 18, 19
BACKLOG = [("2027-01", 1, 0), ("2027-02", 1, 1), ("2027-03", 3, 1)]


@pytest.fixture
def seeded(db, office):
    moderator = office["people"]["moderator"]
    bodies = {"works": office["works"].id, "health": office["health"].id}
    areas = {"juffair": office["juffair"].id, "seef": office["seef"].id, None: None}
    ids = {}
    with unit_of_work(db):
        for number, (body, category, area, channel, opened, due, resolved, status, reopened) in CASES.items():
            case = Case(channel=channel, body_id=bodies[body], category_id=office["categories"][category].id,
                        area_id=areas[area], description=f"حالة {number}", status=status, due_on=due,
                        opened_by_id=moderator.id, opened_at=opened, resolved_at=resolved, reopened_count=reopened,
                        assigned_at=None if status == S.SUBMITTED else opened, created_at=opened,
                        updated_at=resolved or opened)
            db.add(case)
            db.flush()
            ids[number] = case.id
        for number, round_, outcome, rating, given in FEEDBACK:
            db.add(CaseFeedback(case_id=ids[number], round=round_, outcome=outcome, rating=rating, created_at=given))
    return ids


def as_tuple(figures) -> tuple:
    s = figures.satisfaction
    return (figures.opened, figures.open, figures.overdue, figures.closed_on_time, figures.closed_late,
            figures.median_days_to_close, (s.answers, s.fixed, s.partly_fixed, s.not_fixed, s.average_rating))


def json_tuple(figures: dict) -> tuple:
    s = figures["satisfaction"]
    return (figures["opened"], figures["open"], figures["overdue"], figures["closed_on_time"],
            figures["closed_late"], figures["median_days_to_close"],
            (s["answers"], s["fixed"], s["partly_fixed"], s["not_fixed"], s["average_rating"]))


@pytest.mark.parametrize("group_by", list(EXPECTED))
def test_figures_equal_the_hand_computed_ones(db, seeded, group_by):
    result = dashboard.dashboard(db, start=START, end=END, group_by=group_by, now=NOW, zone=BAHRAIN)
    assert {group.key: as_tuple(group) for group in result.groups} == EXPECTED[group_by]
    assert as_tuple(result.totals) == TOTALS
    assert [(p.month, p.open, p.overdue) for p in result.backlog] == BACKLOG
    assert result.awaiting_triage == 1


@pytest.mark.parametrize("group_by", list(EXPECTED))
def test_the_json_has_the_same_figures(client, seeded, monkeypatch, group_by):
    monkeypatch.setattr("majlis.api.cases.utcnow", lambda: NOW)
    response = client.get(f"/api/v1/accountability?from=2027-01-01&to=2027-03-31&group_by={group_by}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=300"
    data = response.get_json()
    assert (data["from"], data["to"], data["group_by"]) == ("2027-01-01", "2027-03-31", group_by)
    assert {group["key"]: json_tuple(group) for group in data["groups"]} == EXPECTED[group_by]
    assert json_tuple(data["totals"]) == TOTALS
    assert [(p["month"], p["open"], p["overdue"]) for p in data["backlog"]] == BACKLOG
    assert data["awaiting_triage"] == 1


def test_the_page_shows_the_same_figures_in_its_tables(client, seeded, monkeypatch):
    monkeypatch.setattr("majlis.followups.views.utcnow", lambda: NOW)
    html = client.get("/accountability?from=2027-01-01&to=2027-03-31&group_by=body&lang=en").get_data(as_text=True)
    # Each chart's table: opened, open, overdue; closed on time, late; median; answers.
    assert '<th scope="row">Works</th><td>4</td><td>2</td><td>1</td>' in html
    assert '<th scope="row">Health</th><td>4</td><td>1</td><td>0</td>' in html
    assert '<th scope="row">Works</th><td>2</td><td>1</td></tr>' in html
    assert '<th scope="row">Works</th><td>14.6</td>' in html and '<th scope="row">Health</th><td>7.0</td>' in html
    assert '<th scope="row">Works</th><td>4</td><td>3</td><td>0</td><td>1</td><td>3.3</td>' in html
    assert '<th scope="row">Feb 2027</th><td>1</td><td>1</td>' in html  # the backlog
    # The charts are SVG drawn on the server, a bar per figure, named for screen readers.
    assert html.count('<svg class="chart"') == 5 and 'role="img"' in html and "<script" not in html
    assert html.count('<rect class="bar-overdue"') == 1 + 2  # Works now, February and March
    month = client.get("/accountability?from=2027-01-01&to=2027-03-31&group_by=month&lang=en").get_data(as_text=True)
    assert '<th scope="row">Feb 2027</th><td>3</td><td>1</td><td>1</td>' in month
    assert '<th scope="row">Mar 2027</th><td>3</td><td>3</td><td>1</td>' in month
    arabic = client.get("/accountability?from=2027-01-01&to=2027-03-31&lang=ar").get_data(as_text=True)
    assert 'direction="rtl"' in arabic and "الأشغال" in arabic


def test_no_personal_data_on_the_page(client, db, seeded, office):
    html = client.get("/accountability?from=2027-01-01&to=2027-03-31").get_data(as_text=True)
    for private in ("حالة 1", office["people"]["resident"].name, office["people"]["resident"].email):
        assert private not in html


@pytest.mark.parametrize("query, field", [
    ("group_by=person", "group_by"),
    ("from=2027-13-01", "from"),
    ("from=1999-01-01", "from"),
    ("from=2027-03-01&to=2027-02-01", "to"),
    ("from=2000-01-01&to=2027-01-01", "from"),
])
def test_bad_filters(client, query, field):
    for url in (f"/api/v1/accountability?{query}", f"/accountability?{query}"):
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_the_default_range_is_the_last_twelve_months(client):
    data = client.get("/api/v1/accountability?to=2027-03-15").get_json()
    assert (data["from"], data["to"], data["group_by"]) == ("2026-04-01", "2027-03-15", "body")


def test_a_range_in_the_future_has_no_figures(db, seeded):
    result = dashboard.dashboard(db, start=date(2027, 5, 1), end=date(2027, 6, 30), group_by="month", now=NOW,
                                 zone=BAHRAIN)
    assert result.groups == [] and result.backlog == [] and result.totals.opened == 0
