"""Time at the edges: UTC inside, the governorate's zone and the Hijri calendar for people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from hijridate import Gregorian


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["MAJLIS_TIMEZONE"])


def to_local(instant: datetime, zone: ZoneInfo | None = None) -> datetime:
    """Convert an aware instant to the governorate's wall time."""
    return instant.astimezone(zone or local_zone())


def hijri_date(day: date, adjust_days: int = 0) -> tuple[int, int, int]:
    """Return the Umm al-Qura (year, month, day) for a Gregorian day, shifted by an official adjustment."""
    hijri = Gregorian.fromdate(day + timedelta(days=adjust_days)).to_hijri()
    return hijri.year, hijri.month, hijri.day


HIJRI_MONTHS_AR = [
    "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
    "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
]
HIJRI_MONTHS_EN = [
    "Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula", "Jumada al-Akhirah",
    "Rajab", "Shaban", "Ramadan", "Shawwal", "Dhu al-Qadah", "Dhu al-Hijjah",
]


def format_hijri(day: date, locale: str, adjust_days: int = 0) -> str:
    try:
        year, month, mday = hijri_date(day, adjust_days)
    except (OverflowError, ValueError):
        return ""  # outside the Umm al-Qura tables (1924-2077): show the Gregorian date alone
    if locale == "ar":
        return f"{mday} {HIJRI_MONTHS_AR[month - 1]} {year} هـ"
    return f"{mday} {HIJRI_MONTHS_EN[month - 1]} {year} AH"


def zone_name(zone: ZoneInfo, locale: str) -> str:
    """The zone's short everyday name ("Bahrain Time", "توقيت البحرين"), not its long standard one or an offset."""
    from babel.dates import get_timezone_name

    return get_timezone_name(zone, "short", locale=locale, uncommon=True)
