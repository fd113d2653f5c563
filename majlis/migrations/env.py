"""Alembic environment: runs against the engine handed over by majlis.migrations."""

from alembic import context

import majlis.models  # noqa: F401 - registers every table on the metadata
from majlis.db import Base
from majlis.migrations import include_name

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table on SQLite (copy, drop, rename); with foreign keys on, dropping the old
        # table would first delete its rows and cascade to every table that refers to it. SQLite's own advice: off
        # during the rebuild (set outside any transaction, on the DBAPI connection), checked after.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        broken = connection.connection.dbapi_connection.execute("PRAGMA foreign_key_check").fetchall()
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
