"""Reading the directory: the governorate's areas and its government bodies."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.directory.models import Area, GovernmentBody
from majlis.errors import InvalidInput, as_id


def list_areas(db_session: Session, *, by_name_in: str | None = None) -> list[Area]:
    """List the areas by id, or by their name in the given language ("ar" or "en")."""
    order = {"en": Area.name_en, "ar": Area.name_ar}.get(by_name_in, Area.id)
    return list(db_session.scalars(select(Area).order_by(order)))


def chosen_area(db_session: Session, value, *, field: str) -> Area | None:
    """Return the area a form or query string names by its id (None when it names none); 400 for any other value."""
    if value in (None, ""):
        return None
    area_id = as_id(value)
    area = db_session.get(Area, area_id) if area_id is not None else None
    if area is None:
        raise InvalidInput(_l("Choose an area from the list."), field=field)
    return area


def area_choices(db_session: Session, lang: str) -> list[tuple[str, str]]:
    """List the areas as (id, name in `lang`) pairs by name, for a select."""
    english = lang == "en"
    return [(str(area.id), area.name_en if english else area.name_ar)
            for area in list_areas(db_session, by_name_in=lang)]


def active_bodies(db_session: Session) -> list[GovernmentBody]:
    """List the active government bodies by id."""
    return list(db_session.scalars(select(GovernmentBody).where(GovernmentBody.is_active).order_by(GovernmentBody.id)))


def get_body(db_session: Session, body_id: int) -> GovernmentBody | None:
    """Return the government body with this id, or None."""
    return db_session.get(GovernmentBody, body_id)
