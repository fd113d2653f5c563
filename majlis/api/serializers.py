"""Turn models into the JSON shapes of CONTRACT.md."""

from __future__ import annotations

from majlis.auth.models import User
from majlis.directory.models import GovernmentBody
from majlis.sessions.models import reminder_minutes_of


def user_to_dict(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
            "verified": user.is_verified}


def body_to_dict(body: GovernmentBody) -> dict:
    return {"id": body.id, "name_ar": body.name_ar, "name_en": body.name_en}


def _iso(instant):
    return instant.isoformat() if instant is not None else None


def series_to_dict(series) -> dict:
    return {
        "id": series.id,
        "kind": series.kind.value,
        "title_ar": series.title_ar,
        "title_en": series.title_en,
        "description_ar": series.description_ar,
        "description_en": series.description_en,
        "rrule": series.rrule,
        "timezone": series.timezone,
        "first_start": series.first_start_local.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": series.duration_minutes,
        "capacity": series.capacity,
        "registration_opens_days": series.registration_opens_days,
        "registration_closes_minutes": series.registration_closes_minutes,
        "visibility": series.visibility.value,
        "ends_on": series.ends_on.isoformat() if series.ends_on else None,
        "previous_id": series.previous_id,
        "reminder_minutes": reminder_minutes_of(series),
    }


def session_to_dict(row) -> dict:
    return {
        "id": row.id,
        "series_id": row.series_id,
        "kind": row.kind.value,
        "title_ar": row.title_ar,
        "title_en": row.title_en,
        "description_ar": row.description_ar,
        "description_en": row.description_en,
        "visibility": row.visibility.value,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "original_starts_at": _iso(row.original_starts_at),
        "status": row.status.value,
        "cancel_reason": row.cancel_reason,
        "capacity": row.capacity,
        "confirmed_count": row.confirmed_count,
        "waitlist_count": row.waitlist_count,
        "registration_opens_at": _iso(row.registration_opens_at),
        "registration_closes_at": _iso(row.registration_closes_at),
        "stream_url": row.stream_url,
        "public_viewing": row.public_viewing,
        "format": row.format.value,
        "place": place_to_dict(row),
        "in_person_capacity": row.in_person_capacity,
        "in_person_confirmed_count": row.in_person_confirmed_count,
        "in_person_waitlist_count": row.in_person_waitlist_count,
    }


def place_to_dict(row) -> dict | None:
    """A session's place, with its OpenStreetMap link; None for an online session."""
    if row.place_name_ar is None:
        return None
    return {"name_ar": row.place_name_ar, "name_en": row.place_name_en, "address": row.place_address,
            "area_id": row.place_area_id, "lat": row.latitude, "lon": row.longitude, "map_url": row.map_url}
