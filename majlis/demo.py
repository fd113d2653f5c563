"""The Capital Governorate demo: areas, bodies and their categories of requests, two series and one account per role
(idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.auth import services as auth_services
from majlis.auth.models import User
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import Role
from majlis.errors import Forbidden
from majlis.sessions.models import MajlisSession, Series
from majlis.sessions.services import create_one_off, create_series, materialize_series

DEMO_PASSWORD = "majlis-demo-2026"  # noqa: S105 - demo only; refused in production

AREAS = [
    ("manama", "المنامة", "Manama"),
    ("juffair", "الجفير", "Juffair"),
    ("adliya", "العدلية", "Adliya"),
    ("gudaibiya", "القضيبية", "Gudaibiya"),
    ("hoora", "الحورة", "Hoora"),
    ("seef", "السيف", "Seef"),
    ("sanabis", "السنابس", "Sanabis"),
    ("salmaniya", "السلمانية", "Salmaniya"),
    ("mahooz", "الماحوز", "Mahooz"),
    ("umm-al-hassam", "أم الحصم", "Umm Al Hassam"),
    ("tubli", "توبلي", "Tubli"),
    ("jidhafs", "جدحفص", "Jidhafs"),
    ("sitra", "سترة", "Sitra"),
]

BODIES = [
    ("works", "وزارة الأشغال", "Ministry of Works", 30),
    ("municipalities", "وزارة شؤون البلديات والزراعة", "Ministry of Municipalities Affairs and Agriculture", 21),
    ("housing", "وزارة الإسكان والتخطيط العمراني", "Ministry of Housing and Urban Planning", 45),
    ("health", "وزارة الصحة", "Ministry of Health", 14),
    ("education", "وزارة التربية والتعليم", "Ministry of Education", 30),
    ("interior", "وزارة الداخلية", "Ministry of Interior", 14),
    ("ewa", "هيئة الكهرباء والماء", "Electricity and Water Authority", 10),
    ("social", "وزارة التنمية الاجتماعية", "Ministry of Social Development", 21),
]

DEMO_ACCOUNTS = [
    ("resident", "resident@demo.majlis"),
    ("moderator", "moderator@demo.majlis"),
    ("staff", "staff@demo.majlis"),
    ("official", "official@demo.majlis"),
    ("admin", "admin@demo.majlis"),
]
_DEMO_NAMES = {
    "resident": "فاطمة علي",
    "moderator": "مكتب المحافظ — الإشراف",
    "staff": "أحمد يوسف",
    "official": "خالد إبراهيم",
    "admin": "مدير النظام",
}

FIELD_VISIT = {
    "kind": "field_visit",
    "format": "hybrid",
    "title_ar": "زيارة المحافظ الميدانية إلى الحورة",
    "title_en": "The Governor's field visit to Hoora",
    "description_ar": "جولة في أحياء الحورة ولقاء مع الأهالي في المركز الاجتماعي، مع مقاعد للمشاركة عن بُعد.",
    "description_en": "A walk through Hoora's neighbourhoods and a meeting with residents at the community centre, "
                      "with seats to take part online.",
    "duration_minutes": 120,
    "capacity": 30,
    "in_person_capacity": 60,
    "visibility": "public",
    "place": {"name_ar": "مركز الحورة الاجتماعي", "name_en": "Hoora Community Centre",
              "address": "Road 1604, Block 316, Hoora", "lat": 26.2307, "lon": 50.5860},
}

SERIES = [
    {
        "kind": "weekly",
        "title_ar": "المجلس الأسبوعي لمحافظ العاصمة",
        "title_en": "The Capital Governor's Weekly Majlis",
        "description_ar": "لقاء مفتوح مع الأهالي لطرح احتياجاتهم ومتابعتها مع الجهات الحكومية.",
        "description_en": "An open meeting where residents raise their needs, followed up with government bodies.",
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "first_start": "2026-01-06T19:00",
        "duration_minutes": 90,
        "capacity": 100,
        "registration_opens_days": 7,
        "registration_closes_minutes": 60,
        "visibility": "public",
    },
    {
        "kind": "coordinating",
        "title_ar": "المجلس التنسيقي لمحافظة العاصمة",
        "title_en": "The Capital Governorate Coordinating Majlis",
        "description_ar": "اجتماع تنسيقي مع ممثلي الجهات الحكومية والوجهاء.",
        "description_en": "A coordinating meeting with government bodies and community notables.",
        "rrule": "FREQ=MONTHLY;BYDAY=1WE",
        "first_start": "2026-01-07T10:00",
        "duration_minutes": 120,
        "capacity": 40,
        "registration_opens_days": 14,
        "registration_closes_minutes": 120,
        "visibility": "invited",
    },
]


@dataclass
class Report:
    created: int = 0
    existing: int = 0


def load(db_session: Session, *, now: datetime, config) -> Report:
    """Insert whatever of the demo is missing; running it again changes nothing."""
    if config["MAJLIS_ENV"] == "production":
        raise Forbidden("The demo data (with its published passwords) is refused in production.")
    from majlis.auth.services import AccountPolicy

    report = Report()
    for code, name_ar, name_en in AREAS:
        if db_session.scalar(select(Area).where(Area.code == code)):
            report.existing += 1
        else:
            db_session.add(Area(code=code, name_ar=name_ar, name_en=name_en))
            report.created += 1
    for code, name_ar, name_en, sla in BODIES:
        if db_session.scalar(select(GovernmentBody).where(GovernmentBody.code == code)):
            report.existing += 1
        else:
            db_session.add(GovernmentBody(code=code, name_ar=name_ar, name_en=name_en, sla_days=sla,
                                          created_at=now, updated_at=now))
            report.created += 1
    db_session.flush()
    from majlis.followups.demo import load_categories

    created, existing = load_categories(db_session, now=now)
    report.created, report.existing = report.created + created, report.existing + existing

    for role, email in DEMO_ACCOUNTS:
        if db_session.scalar(select(User).where(User.email == email)):
            report.existing += 1
            continue
        auth_services.create_user(
            db_session, email=email, name=_DEMO_NAMES[role], role=Role(role), password=DEMO_PASSWORD,
            body_code="works" if role == "official" else None,
            policy=AccountPolicy.from_config(config), now=now,
        )
        report.created += 1

    zone = ZoneInfo(config["MAJLIS_TIMEZONE"])
    horizon = timedelta(weeks=config["MAJLIS_HORIZON_WEEKS"])
    for spec in SERIES:
        series = db_session.scalar(select(Series).where(Series.title_en == spec["title_en"]))
        if series is not None:
            report.existing += 1
            report.created += materialize_series(db_session, series, now=now, horizon=horizon)
            continue
        create_series(db_session, spec, actor=None, zone=zone, now=now, horizon=horizon)
        report.created += 1
    report.created += _field_visit(db_session, zone=zone, now=now)
    return report


def _field_visit(db_session: Session, *, zone: ZoneInfo, now: datetime) -> int:
    """A hybrid field visit ten days ahead, open for registration in the hall and online (once)."""
    if db_session.scalar(select(MajlisSession.id).where(MajlisSession.title_en == FIELD_VISIT["title_en"])):
        return 0
    day = (now.astimezone(zone) + timedelta(days=10)).date()
    hoora = db_session.scalar(select(Area).where(Area.code == "hoora"))
    data = {**FIELD_VISIT, "starts_at": f"{day.isoformat()}T17:00",
            "registration_opens_at": now.astimezone(zone).replace(microsecond=0, tzinfo=None).isoformat(),
            "place": {**FIELD_VISIT["place"], "area_id": hoora.id if hoora else None}}
    create_one_off(db_session, data, actor=None, zone=zone, now=now)
    return 1
