"""Alembic migrations for Majlis's schema; `majlis init-db` upgrades to head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def include_name(name, type_, parent_names) -> bool:
    """Leave the engine-specific search index objects (an FTS5 table and its shadows, a generated tsvector column
    and its GIN index; see minutes.models) out of comparisons of the models with the database."""
    from majlis.minutes.models import INDEX_OBJECT_PREFIXES

    return not (name or "").startswith(INDEX_OBJECT_PREFIXES)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (safe to run again: already at head does nothing)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
