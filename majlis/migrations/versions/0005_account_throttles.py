"""account throttles: failed sign-ins and verifications per e-mail address, shared by every worker and host;
stored e-mail addresses NFKC-normalised and case-folded

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

import majlis.db

revision = '0005'
down_revision = '0004'
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

    # Sign-in now looks addresses up NFKC-normalised and case-folded (they were lower-cased): fold the stored ones
    # the same way, so nobody is locked out. An address whose folded form another account already has is left as
    # it is (two such accounts cannot both keep it; an administrator decides).
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('email', sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.email)).all()
    taken = {email for _id, email in rows}
    for user_id, email in rows:
        folded = unicodedata.normalize('NFKC', email).casefold()
        if folded != email and folded not in taken:
            connection.execute(users.update().where(users.c.id == user_id).values(email=folded))
            taken.discard(email)
            taken.add(folded)


def downgrade() -> None:
    with op.batch_alter_table('account_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_throttles_last_failure_at'))
    op.drop_table('account_throttles')
