"""outbox notices: a row per notice and channel holds its kind and parameters, rendered when delivered

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00

Rows written before this revision keep their rendered subject, text and .ics (their `params` stay NULL) and are
delivered as they are; they become e-mails (`channel`), the only channel there was.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_STATUSES = ('pending', 'sent', 'failed')
NEW_STATUSES = ('pending', 'sent', 'failed', 'skipped')


def _status(values):
    return sa.Enum(*values, name='outboxstatus', native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='email'))
        batch_op.alter_column('to_address', existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column('subject', existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=True)
        batch_op.alter_column('status', existing_type=_status(OLD_STATUSES), type_=_status(NEW_STATUSES),
                              existing_nullable=False)
        batch_op.drop_constraint('uq_outbox_dedupe_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_dedupe_key_channel'), ['dedupe_key', 'channel'])
    # The default only filled the rows already there: writers name the channel of every new row.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(length=16), existing_nullable=False,
                              server_default=None)


def downgrade() -> None:
    # Rows that were never rendered cannot go back to the old shape: what is pending of them is dropped.
    op.execute("DELETE FROM outbox WHERE params IS NOT NULL AND status = 'pending'")
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'skipped'")
    op.execute("UPDATE outbox SET to_address = '', subject = '', body_text = '' WHERE body_text IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_dedupe_key_channel', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_dedupe_key'), ['dedupe_key'])
        batch_op.alter_column('status', existing_type=_status(NEW_STATUSES), type_=_status(OLD_STATUSES),
                              existing_nullable=False)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('subject', existing_type=sa.String(length=300), nullable=False)
        batch_op.alter_column('to_address', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column('channel')
        batch_op.drop_column('params')
