"""cache versions: one counter per cached read, raised in the transaction that changes what it shows;
an index for the back of a session's line

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No rows: a scope without one is at version 0 until its first change creates it (see majlis.cache).
    op.create_table(
        'cache_versions',
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_cache_versions')),
    )
    op.create_index('ix_registrations_arrival', 'registrations', ['session_id', 'queued_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_registrations_arrival', table_name='registrations')
    op.drop_table('cache_versions')
