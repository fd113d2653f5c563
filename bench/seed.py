"""Seed a benchmark database through Majlis's own services, so the rows look like production's.

Accounts are made by `auth.services.sign_up` and `create_user`, tokens by `issue_api_token`, series and their
occurrences by `create_series` and `materialize_series`, one-off sessions by `create_one_off`, seats by
`registration.services.register` (at a moment inside each session's window), attendance by `record_attendance`,
questions by `questions.services.ask` and `moderate`, cases by `open_case`, and the sessions' lives by
`sessions.lifecycle`. Only the reference lists a deployment loads once (areas, government bodies) are inserted as
rows, as `majlis demo` does. Indexes, counters, audit rows and outbox messages are then exactly what the real code
paths leave behind.

What it makes (about 160 sessions, 6,000 residents):
- four series with a year of history and the 26 weeks ahead (weekly, fortnightly, monthly youth: public; a monthly
  coordinating majlis: invited only); the past ones ended, the last six weeks' with registrations (some lines
  waited) and attendance, the ones whose window is open now partly booked;
- 6,000 residents with an API token each (the mobile app's), all with the same password (for signed-in pages);
- a live session (started ten minutes ago, 1,500 confirmed registrants who joined at its start, 60 approved questions
  to vote on, 30 waiting for moderation), a session about to start (2,000 registrants who have not joined yet),
  four sessions whose registration opened a minute ago (the registration burst), a small warm-up session, four spare
  sessions (the profile of a missed registration target), and an ended session with 500 questions (minutes);
- the 61 session pages residents open when the majlis starts, weighted: the live one, the one about to start, the next
  few, the ended one with its minutes, and the rest nearest in time.

On PostgreSQL the residents and the registrations are made by several processes at once (BENCH_SEED_PROCESSES,
default 2; each its own app and connection, each registration in its session's lock as in production). On SQLite
writers queue at one lock anyway, so it runs in this process.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from majlis import create_app, migrations  # noqa: E402
from majlis.auth.models import User  # noqa: E402
from majlis.auth.services import AccountPolicy, create_user, issue_api_token, sign_up  # noqa: E402
from majlis.db import get_database, unit_of_work  # noqa: E402
from majlis.demo import AREAS, BODIES  # noqa: E402
from majlis.directory.models import Area, GovernmentBody  # noqa: E402
from majlis.enums import Role, SessionStatus, Visibility  # noqa: E402
from majlis.followups.services import open_case  # noqa: E402
from majlis.questions import services as questions  # noqa: E402
from majlis.registration import services as registration  # noqa: E402
from majlis.sessions import lifecycle  # noqa: E402
from majlis.sessions.models import MajlisSession  # noqa: E402
from majlis.sessions.services import create_one_off, create_series, materialize_series  # noqa: E402

HORIZON = timedelta(weeks=26)
PASSWORD = "Majlis-bench-pass-7"  # noqa: S105 - a scratch database on loopback, dropped after the run

RESIDENTS = 6000
START_REGISTRANTS = 2000  # hold a seat at the session about to start; a 1 s burst of first joins uses < 2,000
LIVE_REGISTRANTS = 1500
VOTE_QUESTIONS, WARM_VOTE_QUESTIONS, PROFILE_VOTE_QUESTIONS = 40, 10, 10  # approved on the live session
PENDING_QUESTIONS = 30  # approved one by one during the live fan-out
MINUTES_QUESTIONS = 500
PAGE_SESSIONS = 61
HISTORY_WITH_PEOPLE = timedelta(weeks=6)  # past sessions this recent have registrations and attendance
# The sessions whose registration opens at once (title_ar, title_en, capacity): the registration burst.
BURST_SESSIONS = (
    ("المجلس الأسبوعي — جلسة الإسكان", "Weekly majlis: housing", 100),
    ("لقاء الشباب — ريادة الأعمال", "Youth majlis: enterprise", 60),
    ("مجلس الأحياء — الطرق والصرف", "Neighbourhoods: roads and drainage", 150),
    ("مجلس الأسرة", "Family majlis", 80),
)
SERIES = (
    {"kind": "weekly", "title_ar": "المجلس الأسبوعي لمحافظ العاصمة", "title_en": "The Capital Governor's Weekly Majlis",
     "description_ar": "لقاء مفتوح مع الأهالي.", "description_en": "An open meeting with residents.",
     "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": "19:00", "duration_minutes": 90, "capacity": 100,
     "registration_opens_days": 7, "registration_closes_minutes": 60, "visibility": "public"},
    {"kind": "weekly", "title_ar": "مجلس الأحياء", "title_en": "Neighbourhood majlis",
     "description_ar": "لقاء كل أسبوعين مع أهالي الأحياء.", "description_en": "Every other week with a neighbourhood.",
     "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU", "first_start": "18:00", "duration_minutes": 60, "capacity": 80,
     "registration_opens_days": 10, "registration_closes_minutes": 60, "visibility": "public"},
    {"kind": "special", "title_ar": "لقاء الشباب الشهري", "title_en": "Monthly youth majlis",
     "rrule": "FREQ=MONTHLY;BYDAY=1SA", "first_start": "17:00", "duration_minutes": 60, "capacity": 60,
     "registration_opens_days": 14, "registration_closes_minutes": 60, "visibility": "public"},
    {"kind": "coordinating", "title_ar": "المجلس التنسيقي لمحافظة العاصمة",
     "title_en": "The Capital Governorate Coordinating Majlis", "rrule": "FREQ=MONTHLY;BYDAY=1WE",
     "first_start": "10:00", "duration_minutes": 120, "capacity": 40, "registration_opens_days": 14,
     "registration_closes_minutes": 120, "visibility": "invited"},
)

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
FIRST_NAMES = ["فاطمة", "محمد", "زينب", "علي", "مريم", "حسن", "نورة", "يوسف", "خديجة", "أحمد", "Sara", "Omar",
               "ليلى", "جاسم", "هدى", "عبدالله", "آمنة", "Khalid", "سلمان", "رقية"]
FAMILY_NAMES = ["الحداد", "البنعلي", "الدوسري", "العلوي", "المحميد", "الشيخ", "Al-Sayed", "الكعبي", "الجودر",
                "المناعي", "البحارنة", "Fakhro"]


@dataclass
class Fixture:
    """What the load scripts need: ids, and bearer tokens in clear (the database keeps only their hashes)."""

    database_url: str
    zone: str = "Asia/Bahrain"
    password: str = PASSWORD
    resident_tokens: list[str] = field(default_factory=list)  # every resident, in order of sign-up
    resident_emails: list[str] = field(default_factory=list)
    resident_names: list[str] = field(default_factory=list)
    live_tokens: list[str] = field(default_factory=list)  # confirmed on the live session and joined at its start
    start_tokens: list[str] = field(default_factory=list)  # hold a seat at the session about to start, not joined
    moderator_token: str = ""
    public_series_ids: list[int] = field(default_factory=list)  # weekly, fortnightly, monthly youth
    burst_session_ids: list[int] = field(default_factory=list)  # registration opened a minute ago
    burst_capacities: list[int] = field(default_factory=list)
    warm_session_id: int = 0  # a further open session, so the registration path is warmed without spending seats
    spare_session_ids: list[int] = field(default_factory=list)  # fresh, for the profile of a missed target
    live_session_id: int = 0
    start_session_id: int = 0  # starts in five minutes; every registrant holds a seat and has not joined yet
    vote_question_ids: list[int] = field(default_factory=list)  # approved, on the live session
    warm_vote_question_ids: list[int] = field(default_factory=list)
    profile_vote_question_ids: list[int] = field(default_factory=list)
    pending_question_ids: list[int] = field(default_factory=list)  # approved during the fan-out
    seeded_votes: list[tuple[int, int]] = field(default_factory=list)  # (resident index, question id) cast already
    minutes_session_id: int = 0
    page_sessions: list[tuple[int, float]] = field(default_factory=list)  # (session id, weight in %)
    sessions_total: int = 0
    registrations_total: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Fixture:
        data = dict(data)
        data["page_sessions"] = [tuple(pair) for pair in data["page_sessions"]]
        data["seeded_votes"] = [tuple(pair) for pair in data["seeded_votes"]]
        return cls(**data)


def _question_text(rng: random.Random) -> str:
    return rng.choice(TOPICS).format(area=rng.choice(AREAS)[1], n=rng.randint(1, 999))


def _app(database_url: str, instance_path: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance_path,
                       "MAIL_BACKEND": "null", "MAJLIS_FAST_PASSWORD_HASH": True})


def _policy() -> AccountPolicy:
    # The key only signs verification codes, which the seed never sends; API token digests are unkeyed.
    return AccountPolicy(verification_required=False, secret_key="bench-seed", fast_hash=True)  # noqa: S106


# --- work that several processes share on PostgreSQL ------------------------------------------------------------------


def _residents(db, first: int, count: int, now: datetime) -> list[tuple[int, str, str, str]]:
    """Sign residents up and give each an API token: [(user id, e-mail, name, token)]."""
    rng = random.Random(first)  # noqa: S311 - reproducible data, not secrets
    policy = _policy()
    made = []
    for start in range(first, first + count, 500):  # several commits: one huge transaction only costs memory
        with unit_of_work(db):
            for n in range(start, min(start + 500, first + count)):
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)} {n}"
                user = sign_up(db, email=f"resident{n:05d}@bench.example.org", name=name, password=PASSWORD,
                               phone=f"+9733{n:07d}", area=rng.choice(AREAS)[0], policy=policy, now=now)
                token = issue_api_token(db, user, label="Majlis app", policy=policy, now=now)[0]
                made.append((user.id, user.email, user.name, token))
    return made


def _registrations(db, session_id: int, user_ids: list[int], when: list[str], attend: list[tuple[int, str]]) -> int:
    """Register each user at their moment (ISO), in order; then record the given attendances. Returns the count."""
    for start in range(0, len(user_ids), 500):
        with unit_of_work(db):
            users = _users(db, user_ids[start:start + 500])
            for user_id, at in zip(user_ids[start:start + 500], when[start:start + 500], strict=True):
                registration.register(db, session_id, users[user_id], now=datetime.fromisoformat(at))
    for start in range(0, len(attend), 500):
        with unit_of_work(db):
            row = db.get(MajlisSession, session_id)
            users = _users(db, [user_id for user_id, _ in attend[start:start + 500]])
            for user_id, at in attend[start:start + 500]:
                registration.record_attendance(db, row, users[user_id], now=datetime.fromisoformat(at))
    return len(user_ids)


def _users(db, user_ids: list[int]) -> dict[int, User]:
    """The users of a batch in one query (the seed's own look-up; the services then get them as the app does)."""
    return {user.id: user for user in db.scalars(select(User).where(User.id.in_(user_ids)))}


def _minutes_session(db, session_id: int, attendee_ids: list[int], moderator_id: int, body_ids: list[int],
                     zone_name: str, now_iso: str) -> int:
    """A session that ended an hour ago with 500 questions in every final state, cases and attendance."""
    rng = random.Random(500)  # noqa: S311
    now = datetime.fromisoformat(now_iso)
    zone = ZoneInfo(zone_name)
    with unit_of_work(db):
        row = db.get(MajlisSession, session_id)
        moderator = db.get(User, moderator_id)
        starts = row.starts_at
        during = starts + timedelta(minutes=30)
        users = _users(db, attendee_ids)
        attendees = [users[user_id] for user_id in attendee_ids]
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
                    open_case(db, question, moderator, body_id=rng.choice(body_ids), now=during, zone=zone)
            elif kind < 7:
                questions.moderate(db, question, moderator, action="reject", note="خارج اختصاص المجلس", now=during)
            elif kind == 7 and index > 10:
                questions.moderate(db, question, moderator, action="merge", into=asked[index - 7].id, now=during)
            else:
                questions.moderate(db, question, moderator, action="approve", now=during)
        lifecycle.mark_ended(db, row.id, now=now)
    return len(attendees)


TASKS = {"residents": _residents, "registrations": _registrations, "minutes": _minutes_session}


def _in_worker(database_url: str, instance_path: str, task: str, args: tuple):
    """A process of the pool: its own app, request context (services translate) and database session."""
    app = _app(database_url, instance_path)
    with app.test_request_context():
        database = get_database(app)
        db = database.session_factory()
        try:
            return TASKS[task](db, *args)
        finally:
            db.close()
            database.engine.dispose()


class _Runner:
    """Runs seed tasks in this process (SQLite) or in a pool of processes (PostgreSQL)."""

    def __init__(self, db, database_url: str, instance_path: str, processes: int):
        self.db, self.url, self.instance, self.processes = db, database_url, instance_path, processes
        self.pool = (ProcessPoolExecutor(processes, mp_context=get_context("spawn"))
                     if processes > 1 else None)

    def map(self, jobs: list[tuple[str, tuple]]) -> list:
        if self.pool is None:
            return [TASKS[task](self.db, *args) for task, args in jobs]
        futures = [self.pool.submit(_in_worker, self.url, self.instance, task, args) for task, args in jobs]
        return [future.result() for future in futures]

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()


# --- the whole seed ---------------------------------------------------------------------------------------------------


def _series_with_history(db, staff, spec: dict, *, now: datetime, zone: ZoneInfo):
    """A series created a year ago and kept materialised since: a year of past occurrences plus the horizon."""
    year_ago = now - timedelta(days=365)
    data = dict(spec, first_start=year_ago.astimezone(zone).strftime("%Y-%m-%dT") + spec["first_start"])
    series = create_series(db, data, actor=staff, zone=zone, now=year_ago, horizon=HORIZON)
    materialize_series(db, series, now=now, horizon=HORIZON)
    return series


def _one_off(db, staff, zone: ZoneInfo, now: datetime, *, title: tuple[str, str], starts_at: datetime, minutes: int,
             capacity: int, opens_at: datetime, closes_at: datetime | None = None) -> MajlisSession:
    data = {"kind": "special", "title_ar": title[0], "title_en": title[1], "starts_at": starts_at.isoformat(),
            "duration_minutes": minutes, "capacity": capacity, "registration_opens_at": opens_at.isoformat(),
            "description_ar": "جلسة خاصة من مجلس المحافظة.", "description_en": "A special session of the majlis."}
    if closes_at is not None:
        data["registration_closes_at"] = closes_at.isoformat()
    return create_one_off(db, data, actor=staff, zone=zone, now=now)


def _split(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts)
    return [items[i:i + size] for i in range(0, len(items), size)]


def build(database_url: str, instance_path: str, *, residents: int = RESIDENTS, log=print,
          processes: int | None = None) -> Fixture:
    """Create the schema (the real migrations) and the benchmark data; return the fixture."""
    started = time.perf_counter()

    def step(text: str) -> None:
        log(f"  {text} ({time.perf_counter() - started:.1f} s)")

    rng = random.Random(10)  # noqa: S311 - reproducible data, not secrets
    sqlite = database_url.startswith("sqlite")
    if processes is None:
        processes = 1 if sqlite else int(os.environ.get("BENCH_SEED_PROCESSES") or 2)
    app = _app(database_url, instance_path)
    fixture = Fixture(database_url=database_url, zone=app.config["MAJLIS_TIMEZONE"])
    zone = ZoneInfo(fixture.zone)
    now = datetime.now(UTC).replace(microsecond=0)
    # Services expect a request context for translations (notices, audit labels), as in the app.
    with app.test_request_context():
        database = get_database(app)
        migrations.upgrade(database.engine)
        db = database.session_factory()
        policy = _policy()

        with unit_of_work(db):
            for code, name_ar, name_en in AREAS:  # reference data, loaded as `majlis demo` loads it
                db.add(Area(code=code, name_ar=name_ar, name_en=name_en))
            for code, name_ar, name_en, sla in BODIES:
                db.add(GovernmentBody(code=code, name_ar=name_ar, name_en=name_en, sla_days=sla, created_at=now,
                                      updated_at=now))
            db.flush()
            body_ids = list(db.scalars(select(GovernmentBody.id)))
            staff = create_user(db, email="staff@bench.example.org", name="أحمد يوسف", role=Role.STAFF,
                                password=PASSWORD, policy=policy, now=now)
            moderator = create_user(db, email="office@bench.example.org", name="مكتب المحافظ", role=Role.MODERATOR,
                                    password=PASSWORD, policy=policy, now=now)
            fixture.moderator_token = issue_api_token(db, moderator, label="bench", policy=policy, now=now)[0]
            all_series = [_series_with_history(db, staff, spec, now=now, zone=zone) for spec in SERIES]
            fixture.public_series_ids = [s.id for s in all_series if s.visibility == Visibility.PUBLIC]

            def one_off(title, starts_at, minutes, capacity, opens_at, closes_at=None):
                return _one_off(db, staff, zone, now, title=title, starts_at=starts_at, minutes=minutes,
                                capacity=capacity, opens_at=opens_at, closes_at=closes_at)

            # Started ten minutes ago: inside the join window, taking questions, watched live.
            live_row = one_off(("المجلس المفتوح — جلسة مباشرة", "Open majlis (live)"), now - timedelta(minutes=10),
                               90, LIVE_REGISTRANTS + 100, now - timedelta(days=2), now + timedelta(hours=1))
            # About to start: the room is open (15 minutes early), nobody has joined yet. Ten minutes ahead, so that
            # it is still ahead when the PostgreSQL half of a run reaches it (both engines are seeded first).
            start_row = one_off(("مجلس الخدمات البلدية", "Municipal services majlis"), now + timedelta(minutes=10),
                                90, START_REGISTRANTS, now - timedelta(days=1), now + timedelta(minutes=9))
            minutes_row = one_off(("مجلس الصحة والتعليم", "Health and education majlis"), now - timedelta(hours=3),
                                  120, 400, now - timedelta(days=7), now - timedelta(hours=4))
            week = now + timedelta(days=7)
            burst = [one_off((ar, en), week + timedelta(hours=2 * i), 90, capacity, now - timedelta(minutes=1))
                     for i, (ar, en, capacity) in enumerate(BURST_SESSIONS)]
            warm = one_off(("لقاء تعريفي بالخدمات الإلكترونية", "E-services introduction"), now + timedelta(days=3),
                           60, 10, now - timedelta(days=1))
            spare = [one_off((f"{ar} (إعادة)", f"{en} (repeat)"), week + timedelta(days=1, hours=2 * i), 90, capacity,
                             now - timedelta(minutes=1)) for i, (ar, en, capacity) in enumerate(BURST_SESSIONS)]
            for row in db.scalars(select(MajlisSession).where(MajlisSession.ends_at <= now,
                                                              MajlisSession.id != minutes_row.id)):
                lifecycle.mark_ended(db, row.id, now=now)
        fixture.live_session_id, fixture.start_session_id = live_row.id, start_row.id
        fixture.minutes_session_id, fixture.warm_session_id = minutes_row.id, warm.id
        fixture.burst_session_ids = [row.id for row in burst]
        fixture.burst_capacities = [row.capacity for row in burst]
        fixture.spare_session_ids = [row.id for row in spare]
        step(f"{len(SERIES)} series and {len(burst) + len(spare) + 5} one-off sessions")

        runner = _Runner(db, database_url, instance_path, processes)
        try:
            chunks = _split(list(range(residents)), processes)
            made = [m for part in runner.map([("residents", (c[0], len(c), now)) for c in chunks]) for m in part]
            user_ids = [m[0] for m in made]
            fixture.resident_emails = [m[1] for m in made]
            fixture.resident_names = [m[2] for m in made]
            fixture.resident_tokens = [m[3] for m in made]
            fixture.live_tokens = fixture.resident_tokens[:LIVE_REGISTRANTS]
            fixture.start_tokens = fixture.resident_tokens[:START_REGISTRANTS]
            step(f"{residents} residents signed up, each with an API token ({processes} process(es))")

            jobs = _registration_jobs(db, rng, now, user_ids, live_row, start_row, minutes_row)
            jobs.append(("minutes", (minutes_row.id, user_ids[LIVE_REGISTRANTS:LIVE_REGISTRANTS + 400], moderator.id,
                                     body_ids, fixture.zone, now.isoformat())))
            # Largest first, so the pool's processes finish at about the same time.
            jobs.sort(key=lambda job: -len(job[1][1]) if job[0] == "registrations" else -2000)
            fixture.registrations_total = sum(runner.map(jobs))
        finally:
            runner.close()
        step(f"{fixture.registrations_total} registrations (session {start_row.id} about to start: "
             f"{START_REGISTRANTS}; live session {live_row.id}: {LIVE_REGISTRANTS} who joined at its start); "
             f"ended session {minutes_row.id} with {MINUTES_QUESTIONS} questions")

        with unit_of_work(db):
            lifecycle.mark_live(db, live_row.id, now=now)
            live_row = db.get(MajlisSession, live_row.id)
            moderator = db.get(User, moderator.id)
            users = _users(db, user_ids[:LIVE_REGISTRANTS])
            authors = [users[user_id] for user_id in user_ids[:LIVE_REGISTRANTS]]
            approved = []
            asked_at = now - timedelta(minutes=8)
            total = VOTE_QUESTIONS + WARM_VOTE_QUESTIONS + PROFILE_VOTE_QUESTIONS
            for index in range(total + PENDING_QUESTIONS):
                question = questions.ask(db, live_row, authors[index * 7], body=_question_text(rng), now=asked_at)
                if index < total:
                    questions.moderate(db, question, moderator, action="approve", now=asked_at)
                    approved.append(question.id)
                else:
                    fixture.pending_question_ids.append(question.id)
            # Votes the approved questions already hold (a minute of the session has passed).
            for question_id in approved[:VOTE_QUESTIONS]:
                question = questions.get_question(db, question_id, moderator)
                for index in rng.sample(range(len(authors)), rng.randint(0, 12)):
                    questions.vote(db, question, authors[index], now=asked_at)
                    fixture.seeded_votes.append((index, question_id))
        fixture.vote_question_ids = approved[:VOTE_QUESTIONS]
        fixture.warm_vote_question_ids = approved[VOTE_QUESTIONS:VOTE_QUESTIONS + WARM_VOTE_QUESTIONS]
        fixture.profile_vote_question_ids = approved[VOTE_QUESTIONS + WARM_VOTE_QUESTIONS:]
        step(f"live session {live_row.id}: {len(approved)} approved questions, {PENDING_QUESTIONS} pending")

        fixture.page_sessions = _page_sessions(db, now, fixture)
        fixture.sessions_total = db.scalar(select(func.count()).select_from(MajlisSession))
        db.close()
    database.engine.dispose()
    fixture.seconds = time.perf_counter() - started
    return fixture


def _registration_jobs(db, rng: random.Random, now: datetime, user_ids: list[int], live_row, start_row,
                       minutes_row) -> list[tuple[str, tuple]]:
    """Who registers for what, when (inside each window), and who attended: one job per session."""
    jobs = []
    live_ids = user_ids[:LIVE_REGISTRANTS]
    jobs.append(("registrations", (start_row.id, user_ids[:START_REGISTRANTS],
                                   [(now - timedelta(minutes=30)).isoformat()] * START_REGISTRANTS, [])))
    # The live session's registrants joined when it started: their joins now are joins again.
    jobs.append(("registrations", (live_row.id, live_ids, [(now - timedelta(minutes=20)).isoformat()] * len(live_ids),
                                   [(u, (now - timedelta(minutes=9)).isoformat()) for u in live_ids])))
    special = {live_row.id, start_row.id, minutes_row.id}
    rows = db.scalars(select(MajlisSession).where(
        MajlisSession.series_id.is_not(None), MajlisSession.visibility == Visibility.PUBLIC,
        MajlisSession.starts_at >= now - HISTORY_WITH_PEOPLE, MajlisSession.registration_opens_at <= now,
        MajlisSession.id.not_in(special)).order_by(MajlisSession.starts_at)).all()
    for row in rows:
        past = row.status == SessionStatus.ENDED
        if past:  # booked to about its capacity, sometimes with a line; about two in three came
            count = rng.randint(row.capacity * 6 // 10, row.capacity * 12 // 10)
            window_end = min(row.registration_closes_at, now)
        else:  # open now: partly booked so far
            count = rng.randint(row.capacity // 5, row.capacity * 7 // 10)
            window_end = now
        people = rng.sample(user_ids, count)
        span = (window_end - row.registration_opens_at).total_seconds()
        moments = sorted(row.registration_opens_at + timedelta(seconds=rng.uniform(0, span * 0.99)) for _ in people)
        attend = []
        if past:
            confirmed = people[:row.capacity]
            attend = [(u, (row.starts_at + timedelta(minutes=rng.randint(0, 20))).isoformat())
                      for u in confirmed if rng.random() < 0.65]
        jobs.append(("registrations", (row.id, people, [m.isoformat() for m in moments], attend)))
    return jobs


def _page_sessions(db, now: datetime, fixture: Fixture) -> list[tuple[int, float]]:
    """The session pages residents open when the majlis starts, with the share of views each gets (in %)."""
    public = db.scalars(select(MajlisSession).where(
        MajlisSession.visibility == Visibility.PUBLIC, MajlisSession.status != SessionStatus.CANCELLED)).all()
    by_id = {row.id: row for row in public}
    chosen: dict[int, float] = {fixture.live_session_id: 30.0, fixture.start_session_id: 15.0,
                                fixture.minutes_session_id: 3.0}
    upcoming = sorted((row for row in public if row.starts_at > now and row.id not in chosen),
                      key=lambda row: row.starts_at)
    for row in upcoming[:6]:
        chosen[row.id] = 4.0
    rest = sorted((row for row in public if row.id not in chosen), key=lambda row: abs(row.starts_at - now))
    others = rest[:PAGE_SESSIONS - len(chosen)]
    for row in others:
        chosen[row.id] = 28.0 / len(others)
    if len(chosen) < PAGE_SESSIONS or any(i not in by_id for i in chosen):
        raise RuntimeError(f"the seed made only {len(chosen)} public sessions to open, not {PAGE_SESSIONS}")
    return list(chosen.items())


def main(argv: list[str]) -> int:
    """`python bench/seed.py URL INSTANCE_DIR [FIXTURE.json]`: seed, print a summary, write the fixture if asked.

    bench/run.py seeds PostgreSQL this way, in a process of its own, while it seeds SQLite itself.
    """
    import json

    url, instance = argv[0], argv[1]
    result = build(url, instance, log=lambda text: print(text, flush=True))
    if len(argv) > 2:
        Path(argv[2]).write_text(json.dumps(result.to_dict()), encoding="utf-8")
    summary = {k: (len(v) if isinstance(v, list) else v) for k, v in result.to_dict().items()}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":  # e.g. python bench/seed.py sqlite:////tmp/seed/majlis.db /tmp/seed/instance
    sys.exit(main(sys.argv[1:]))


def scratch_postgres(url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A database of this process's own on the PostgreSQL server `url` names, and the function that drops it."""
    from sqlalchemy.engine import make_url

    from majlis.db import make_engine

    name = f"{prefix}_{os.getpid()}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    scratch = make_url(url).set(database=name)
    if scratch.drivername == "postgresql":
        scratch = scratch.set(drivername="postgresql+psycopg")
    return scratch.render_as_string(hide_password=False), drop
