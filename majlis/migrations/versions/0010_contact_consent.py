"""contact consent: a case raised by an anonymous question names its resident to the body only once they agree

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00

Cases opened before this from anonymous questions become anonymous, unanswered: the body stops seeing the name
until the resident agrees (from the case page or the app).
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_anonymous', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('contact_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('contact_consent_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE cases SET is_anonymous = :yes WHERE question_id IN "
                       "(SELECT id FROM questions WHERE is_anonymous = :yes)").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('contact_consent_at')
        batch_op.drop_column('contact_consent')
        batch_op.drop_column('is_anonymous')
