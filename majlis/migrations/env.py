"""Alembic environment: runs against the engine handed over by majlis.migrations."""

from alembic import context

import majlis.models  # noqa: F401 - registers every table on the metadata
from majlis.db import Base
from majlis.migrations import include_name

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
