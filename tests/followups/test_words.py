"""Issue 21, defect 11: a case's history and due date in the reader's language and calendars."""

from sqlalchemy import update as sql_update

from majlis.db import unit_of_work
from majlis.followups.models import CaseUpdate
from tests.followups.test_cases import open_case, world  # noqa: F401 - the fixture


def test_the_case_history_speaks_the_readers_language(client, db, world, login_as):  # noqa: F811
    cid = open_case(client, world).get_json()["id"]  # opened through the API in Arabic (the default)
    login_as(world["people"]["resident"])
    english = client.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
    assert "Case opened." in english and "تم فتح ملف المتابعة." not in english
    arabic = client.get(f"/cases/{cid}?lang=ar").get_data(as_text=True)
    assert "Case opened." not in arabic
    # Rows written before stored the Arabic of the time: they are recognised and translated too.
    with unit_of_work(db):
        db.execute(sql_update(CaseUpdate).where(CaseUpdate.case_id == cid).values(text="تم فتح ملف المتابعة."))
    assert "Case opened." in client.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
    api = client.get(f"/api/v1/cases/{cid}", headers={**world["headers"]["resident"], "Accept-Language": "en"})
    assert api.get_json()["updates"][0]["text"] == "Case opened."


def test_a_due_date_is_given_in_both_calendars(client, db, world, login_as):  # noqa: F811
    cid = open_case(client, world, due_on="2027-03-10").get_json()["id"]
    login_as(world["people"]["resident"])
    page = client.get(f"/cases/{cid}?lang=ar").get_data(as_text=True)
    due = page.split("datetime=\"2027-03-10\"")[1][:300]
    assert "2027" in due and "هـ" in due  # the Gregorian day in words and the Hijri day
    listing = client.get("/cases?lang=en").get_data(as_text=True)
    assert "Due by Mar 10, 2027" in listing and "AH)" in listing
