"""Seed a benchmark database through Majlis's own services, so the rows look like production's.

Everything goes through create_app + unit_of_work + the services (and the test factories for users and
one-off sessions), never raw SQL: indexes, counters, audit rows and outbox messages are then exactly what
the real code paths leave behind, and the benchmarks read and write a realistically shaped database.

The result is a `Fixture` of ids and bearer tokens that the load scripts replay.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.factories` lives at the repository root, next to `majlis`
    sys.path.insert(0, str(ROOT))

from majlis import create_app, migrations  # noqa: E402
from majlis.auth.services import AccountPolicy, issue_api_token  # noqa: E402
from majlis.db import get_database, unit_of_work  # noqa: E402
from majlis.enums import Role  # noqa: E402
from majlis.followups.services import open_case  # noqa: E402
from majlis.questions import services as questions  # noqa: E402
from majlis.registration import services as registration  # noqa: E402
from majlis.sessions import lifecycle  # noqa: E402
from majlis.sessions.services import create_series, materialize_series  # noqa: E402
from tests import factories  # noqa: E402

ZONE = ZoneInfo("Asia/Bahrain")
HORIZON = timedelta(weeks=26)

# Sizes: enough residents that no token is used twice within one time-bounded registration burst
# (Majlis registers a few hundred per second here), and the 500-question session the issue names.
RESIDENTS = 5000
LIVE_REGISTRANTS = 1500
REG_CAPACITY = 100  # the demo's weekly capacity; a burst of a few seconds overfills it
APPROVED_QUESTIONS = 40
PENDING_QUESTIONS = 30
MINUTES_QUESTIONS = 500

TOPICS = [
    "إصلاح الطريق المؤدي إلى المدرسة في {area} بعد الأمطار الأخيرة",
    "نقص مواقف السيارات قرب المركز الصحي في {area}",
    "انقطاع المياه المتكرر في مجمع {n} بمنطقة {area}",
    "طلب إنارة إضافية للشارع {n} في {area}",
    "تأخر طلب الإسكان رقم {n} منذ سنوات",
    "تجمع المياه أمام المنازل في الطريق {n} بمنطقة {area}",
    "Speed bumps are needed on road {n} in {area} near the school",
    "The park in block {n} of {area} needs shade and benches",
    "Garbage collection in {area} is late every week since the new contract",
    "Request a pedestrian crossing at avenue {n}, {area}",
]
AREAS = ["المنامة", "الجفير", "العدلية", "القضيبية", "الحورة", "السيف", "Sanabis", "Tubli", "Sitra", "Hoora"]


@dataclass
class Fixture:
    """What the load scripts need: ids, and bearer tokens in clear (the database keeps only their hashes)."""

    database_url: str
    resident_tokens: list[str] = field(default_factory=list)  # every resident (all hold a seat at the start session)
    live_tokens: list[str] = field(default_factory=list)  # confirmed on the live session: join, ask, vote
    moderator_token: str = ""
    reg_session_id: int = 0
    reg_capacity: int = REG_CAPACITY
    warm_session_id: int = 0  # a second open session, so the registration path is warmed without spending seats
    spare_session_id: int = 0  # a third, fresh for the profile of a missed registration target
    live_session_id: int = 0
    start_session_id: int = 0  # starts in five minutes; every resident holds a seat and has not joined yet
    approved_question_ids: list[int] = field(default_factory=list)
    pending_question_ids: list[int] = field(default_factory=list)
    minutes_session_id: int = 0
    sessions_total: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _question_text(rng: random.Random) -> str:
    return rng.choice(TOPICS).format(area=rng.choice(AREAS), n=rng.randint(1, 999))


def _series_with_history(db, staff, spec: dict, *, now: datetime) -> None:
    """A series created a year ago and kept materialised since: a year of past occurrences plus the horizon."""
    year_ago = now - timedelta(days=365)
    data = dict(spec, first_start=year_ago.astimezone(ZONE).strftime("%Y-%m-%dT") + spec["first_start"])
    series = create_series(db, data, actor=staff, zone=ZONE, now=year_ago, horizon=HORIZON)
    materialize_series(db, series, now=now, horizon=HORIZON)


def build(database_url: str, instance_path: str, *, residents: int = RESIDENTS, log=print) -> Fixture:
    """Create the schema (the real migrations) and the benchmark data; return the fixture."""
    started = time.perf_counter()
    rng = random.Random(10)  # noqa: S311 - reproducible data, not secrets
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance_path,
                      "MAIL_BACKEND": "null", "MAJLIS_FAST_PASSWORD_HASH": True})
    fixture = Fixture(database_url=database_url)
    now = datetime.now(UTC)
    # Services expect a request context for translations (notices, audit labels), as in the app.
    with app.test_request_context():
        database = get_database(app)
        migrations.upgrade(database.engine)
        db = database.session_factory()
        # The key only signs verification codes, which the seed never sends; API token digests are unkeyed.
        policy = AccountPolicy(verification_required=False, secret_key="bench-seed", fast_hash=True)  # noqa: S106

        with unit_of_work(db):
            bodies = [factories.body(db) for _ in range(6)]
            staff = factories.user(db, role=Role.STAFF)
            moderator = factories.user(db, role=Role.MODERATOR)
            fixture.moderator_token = issue_api_token(db, moderator, label="bench", policy=policy, now=now)[0]
            _series_with_history(db, staff, {
                "kind": "weekly", "title_ar": "المجلس الأسبوعي لمحافظ العاصمة",
                "title_en": "The Capital Governor's Weekly Majlis",
                "description_ar": "لقاء مفتوح مع الأهالي.", "description_en": "An open meeting with residents.",
                "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": "19:00", "duration_minutes": 90, "capacity": 100,
                "visibility": "public"}, now=now)
            _series_with_history(db, staff, {
                "kind": "special", "title_ar": "لقاء الشباب الشهري", "title_en": "Monthly youth majlis",
                "rrule": "FREQ=MONTHLY;BYDAY=1SA", "first_start": "17:00", "duration_minutes": 60,
                "capacity": 60, "visibility": "public"}, now=now)
        log(f"  series seeded ({time.perf_counter() - started:.1f} s)")

        users = []
        for start in range(0, residents, 500):  # several commits: one huge transaction only costs memory
            with unit_of_work(db):
                for _ in range(start, min(start + 500, residents)):
                    user = factories.user(db)
                    users.append(user)
                    fixture.resident_tokens.append(
                        issue_api_token(db, user, label="bench", policy=policy, now=now)[0])
        log(f"  {residents} residents with API tokens ({time.perf_counter() - started:.1f} s)")

        opens = now - timedelta(days=1)
        with unit_of_work(db):
            reg = factories.majlis_session(db, starts_at=now + timedelta(days=2), capacity=REG_CAPACITY,
                                           registration_opens_at=opens, title_en="Registration burst")
            warm = factories.majlis_session(db, starts_at=now + timedelta(days=3), capacity=10,
                                            registration_opens_at=opens, title_en="Warm-up")
            spare = factories.majlis_session(db, starts_at=now + timedelta(days=4), capacity=REG_CAPACITY,
                                             registration_opens_at=opens, title_en="Profile run")
            # Started ten minutes ago: inside the join window, taking questions, watched live.
            live_row = factories.majlis_session(db, starts_at=now - timedelta(minutes=10),
                                                capacity=LIVE_REGISTRANTS + 100, registration_opens_at=opens,
                                                registration_closes_at=now + timedelta(hours=1),
                                                title_en="Live session")
            # About to start: the room is open (15 minutes early) and every resident is about to join for the first
            # time, which records their attendance.
            start_row = factories.majlis_session(db, starts_at=now + timedelta(minutes=5), capacity=RESIDENTS,
                                                 registration_opens_at=opens,
                                                 registration_closes_at=now + timedelta(minutes=4),
                                                 title_en="Session start")
        fixture.start_session_id = start_row.id
        fixture.reg_session_id, fixture.warm_session_id, fixture.spare_session_id = reg.id, warm.id, spare.id
        fixture.live_session_id = live_row.id

        with unit_of_work(db):
            for user in users:
                registration.register(db, start_row.id, user, now=now - timedelta(minutes=30))
        live_users = users[:LIVE_REGISTRANTS]
        with unit_of_work(db):
            for user in live_users:
                registration.register(db, live_row.id, user, now=now - timedelta(minutes=20))
            lifecycle.mark_live(db, live_row.id, now=now)
            for user in live_users:  # they joined when it started: their joins now are joins again
                registration.record_attendance(db, live_row, user, now=now - timedelta(minutes=9))
        fixture.live_tokens = fixture.resident_tokens[:LIVE_REGISTRANTS]

        with unit_of_work(db):
            live_row = db.merge(live_row)
            for index in range(APPROVED_QUESTIONS + PENDING_QUESTIONS):
                question = questions.ask(db, live_row, live_users[index], body=_question_text(rng), now=now)
                if index < APPROVED_QUESTIONS:
                    questions.moderate(db, question, moderator, action="approve", now=now)
                    fixture.approved_question_ids.append(question.id)
                else:
                    fixture.pending_question_ids.append(question.id)
        log(f"  session {start_row.id} about to start: {len(users)} registrants who have not joined yet; "
            f"live session {live_row.id}: {LIVE_REGISTRANTS} registrants, {APPROVED_QUESTIONS} approved and "
            f"{PENDING_QUESTIONS} pending questions ({time.perf_counter() - started:.1f} s)")

        fixture.minutes_session_id = _minutes_session(db, users, moderator, bodies, rng, now=now)
        log(f"  ended session {fixture.minutes_session_id} with {MINUTES_QUESTIONS} questions "
            f"({time.perf_counter() - started:.1f} s)")

        from sqlalchemy import func, select

        from majlis.sessions.models import MajlisSession

        fixture.sessions_total = db.scalar(select(func.count()).select_from(MajlisSession))
        db.close()
    database.engine.dispose()
    fixture.seconds = time.perf_counter() - started
    return fixture


def _minutes_session(db, users, moderator, bodies, rng: random.Random, *, now: datetime) -> int:
    """A session that ended an hour ago with 500 questions in every final state, cases and attendance."""
    starts = now - timedelta(hours=3)
    during = starts + timedelta(minutes=30)
    attendees = users[LIVE_REGISTRANTS:LIVE_REGISTRANTS + 400]
    with unit_of_work(db):
        row = factories.majlis_session(db, starts_at=starts, capacity=300,
                                       registration_opens_at=starts - timedelta(days=7),
                                       title_en="Ended session (minutes)")
        for user in attendees:
            registration.register(db, row.id, user, now=starts - timedelta(days=1))
        for user in attendees[:220]:
            registration.record_attendance(db, row, user, now=during)
        asked = [questions.ask(db, row, attendees[i % len(attendees)], body=_question_text(rng), now=during)
                 for i in range(MINUTES_QUESTIONS)]
        # Final states in roughly the proportions a busy majlis ends with.
        for index, question in enumerate(asked):
            kind = index % 10
            if kind < 5:  # answered, most with a note
                questions.moderate(db, question, moderator, action="approve", now=during)
                questions.moderate(db, question, moderator, action="on_air", now=during)
                questions.moderate(db, question, moderator, action="answered", now=during,
                                   note="ستتابع الجهة المختصة الطلب خلال شهر." if kind < 4 else None)
                if kind == 0:
                    open_case(db, question, moderator, body_id=rng.choice(bodies).id, now=during, zone=ZONE)
            elif kind < 7:
                questions.moderate(db, question, moderator, action="reject", note="خارج اختصاص المجلس", now=during)
            elif kind == 7 and index > 10:
                questions.moderate(db, question, moderator, action="merge", into=asked[index - 7].id, now=during)
            else:
                questions.moderate(db, question, moderator, action="approve", now=during)
        lifecycle.mark_ended(db, row.id, now=now)
    return row.id


if __name__ == "__main__":  # a quick manual check: python bench/seed.py /tmp/seed-check
    import json
    import tempfile

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="majlis-seed-"))
    result = build(f"sqlite:///{target / 'majlis.db'}", str(target / "instance"))
    summary = {k: (len(v) if isinstance(v, list) else v) for k, v in result.to_dict().items()}
    print(json.dumps(summary, indent=2))
