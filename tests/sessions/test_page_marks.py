"""What the session pages say at a glance (issue 21, defect 12): whose pending question it is, a cancelled
session without a register button, a live session marked live, and the site's icon."""

from datetime import UTC, datetime, timedelta

from majlis.db import unit_of_work
from majlis.enums import QuestionStatus, Role, SessionStatus
from majlis.questions.models import Question
from tests import factories
from tests.sessions.test_session_page import _signed_in


def test_only_the_author_is_told_a_pending_question_is_seen_by_them_alone(app, db):
    now = datetime.now(UTC)
    with unit_of_work(db):
        row = factories.majlis_session(db)
        author = factories.user(db, email="author@example.com")
        moderator = factories.user(db, role=Role.MODERATOR, email="mod@example.com")
        db.add(Question(session_id=row.id, author_id=author.id, body="سؤال ينتظر المراجعة", created_at=now,
                        updated_at=now, status=QuestionStatus.PENDING))
    own = _signed_in(app, author).get(f"/sessions/{row.id}?lang=en").get_data(as_text=True)
    assert "Waiting for review (only you see it)" in own
    theirs = _signed_in(app, moderator).get(f"/sessions/{row.id}?lang=en").get_data(as_text=True)
    assert "سؤال ينتظر المراجعة" in theirs and "Waiting for review" in theirs
    assert "only you see it" not in theirs


def test_a_cancelled_session_has_no_register_button_and_a_live_one_is_marked(client, db):
    now = datetime.now(UTC)
    with unit_of_work(db):
        factories.majlis_session(db, title_en="Called off", status=SessionStatus.CANCELLED,
                                 cancel_reason="A national holiday")
        live = factories.majlis_session(db, title_en="Happening", starts_at=now - timedelta(minutes=5),
                                        status=SessionStatus.LIVE)
    home = client.get("/?lang=en").get_data(as_text=True)
    cards = {card.split("</h3>")[0].rsplit(">", 2)[-2].split("<")[0]: card
             for card in home.split('<li class="card')[1:]}
    assert "Details and registration" not in cards["Called off"] and 'class="button"' not in cards["Called off"]
    assert "Live now" in cards["Happening"] and "Live now" not in cards["Called off"]
    assert "Live now" in client.get(f"/sessions/{live.id}").get_data(as_text=True)


def test_the_site_icon_answers_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    manifest = client.get("/manifest-ar.webmanifest").get_json()
    assert manifest["icons"] and manifest["lang"] == "ar"


def test_user_text_and_latin_words_keep_their_direction_in_arabic_pages(app, client, db):
    now = datetime.now(UTC)
    with unit_of_work(db):
        row = factories.majlis_session(db)
        author = factories.user(db, email="writer@example.com", name="Sara Ahmed")
        db.add(Question(session_id=row.id, author_id=author.id, body="When will road 28 open? متى؟", created_at=now,
                        updated_at=now, status=QuestionStatus.APPROVED))
        moderator = factories.user(db, role=Role.MODERATOR, email="mod2@example.com")
    page = client.get(f"/sessions/{row.id}").get_data(as_text=True)
    assert '<p class="question-body" dir="auto">When will road 28 open? متى؟</p>' in page
    assert "<bdi>Sara Ahmed</bdi>" in page
    assert '<bdi dir="ltr">.ics</bdi>' in page and '<bdi dir="ltr">Apple, Thunderbird</bdi>' in page
    console = _signed_in(app, moderator).get(f"/sessions/{row.id}/moderate").get_data(as_text=True)
    assert '<p class="question-body" dir="auto">When will road 28 open? متى؟</p>' in console


def test_arabic_pages_join_a_title_and_a_date_with_the_arabic_comma(client, db):
    with unit_of_work(db):
        factories.majlis_session(db, title_ar="مجلس الخميس")
    home = client.get("/?lang=ar").get_data(as_text=True)
    assert "مجلس الخميس، " in home and "مجلس الخميس, " not in home
    assert "Weekly majlis, " in client.get("/?lang=en").get_data(as_text=True)
