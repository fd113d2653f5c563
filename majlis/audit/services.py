"""Write audit entries; callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.audit.models import AuditEntry


def record(
    db_session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    now: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Add one audit entry (never secrets: callers pass only identifiers and states)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
        created_at=now,
    )
    db_session.add(entry)
    return entry


def recent_entries(db_session: Session, *, object_type: str | None = None, limit: int = 300) -> list[AuditEntry]:
    """List the latest audit entries, newest first, optionally of one object type."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if object_type:
        statement = statement.where(AuditEntry.object_type == object_type)
    return list(db_session.scalars(statement.limit(limit)))
