"""The demo's categories of requests, per government body (idempotent; loaded by `majlis demo`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.directory.models import GovernmentBody
from majlis.followups.models import CaseCategory

# code, body code, Arabic name, English name, days to resolve, published in open data
CATEGORIES = [
    ("roads-potholes", "works", "حفر وأضرار في الطرق", "Potholes and road damage", 14, True),
    ("sewage-overflow", "works", "طفح مياه الصرف الصحي", "Sewage overflow", 3, True),
    ("rainwater-drainage", "works", "تصريف مياه الأمطار", "Rainwater drainage", 7, True),
    ("street-lighting", "works", "إنارة الشوارع", "Street lighting", 10, True),
    ("waste-collection", "municipalities", "جمع النفايات", "Waste collection", 3, True),
    ("parks-gardens", "municipalities", "الحدائق والمتنزهات", "Parks and gardens", 21, True),
    ("abandoned-vehicles", "municipalities", "السيارات المهملة", "Abandoned vehicles", 14, True),
    ("stray-animals", "municipalities", "الحيوانات السائبة", "Stray animals", 7, True),
    ("housing-application", "housing", "طلبات الإسكان", "Housing applications", 45, True),
    ("housing-maintenance", "housing", "صيانة الوحدات السكنية", "Maintenance of housing units", 30, True),
    ("health-centre", "health", "خدمات المراكز الصحية", "Health centre services", 14, True),
    ("public-health", "health", "الصحة العامة ومكافحة البعوض", "Public health and mosquitoes", 7, True),
    ("school-facilities", "education", "مرافق المدارس", "School facilities", 30, True),
    ("school-transport", "education", "النقل المدرسي", "School transport", 10, True),
    ("traffic-safety", "interior", "السلامة المرورية", "Traffic safety", 14, True),
    ("community-policing", "interior", "الشرطة المجتمعية", "Community policing", 14, True),
    ("power-outage", "ewa", "انقطاع الكهرباء", "Power outage", 2, True),
    ("water-supply", "ewa", "انقطاع المياه أو ضعفها", "Water supply", 3, True),
    ("water-leak", "ewa", "تسرب المياه", "Water leak", 3, True),
    # About one household's hardship: counted in the figures, never listed in open data.
    ("social-aid", "social", "المساعدات الاجتماعية", "Social aid", 21, False),
    ("elderly-disability-care", "social", "رعاية المسنين وذوي الإعاقة",
     "Care for the elderly and people with disabilities", 21, False),
]


def load_categories(db_session: Session, *, now: datetime) -> tuple[int, int]:
    """Add the demo categories that are missing; return (created, already there)."""
    bodies = {body.code: body.id for body in db_session.scalars(select(GovernmentBody))}
    existing = set(db_session.scalars(select(CaseCategory.code)))
    created = 0
    for code, body_code, name_ar, name_en, days, published in CATEGORIES:
        if code in existing or body_code not in bodies:
            continue
        db_session.add(CaseCategory(code=code, body_id=bodies[body_code], name_ar=name_ar, name_en=name_en,
                                    days_to_resolve=days, is_published=published, created_at=now, updated_at=now))
        created += 1
    db_session.flush()
    return created, len(CATEGORIES) - created
