"""account throttles: failed sign-ins and verifications per e-mail address, shared by every worker and host

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import majlis.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_throttles',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('locked_until', majlis.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_account_throttles')),
    )
    with op.batch_alter_table('account_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_throttles_last_failure_at'), ['last_failure_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_throttles_last_failure_at'))
    op.drop_table('account_throttles')
