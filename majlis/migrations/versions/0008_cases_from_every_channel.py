"""cases from every channel: categories per body, channel, area, place, contact; requests awaiting triage; the
resident's "was it fixed?"

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00

A case no longer needs a question: `question_id`, `session_id` and `resident_id` become optional. Existing cases
are majlis cases (`channel`), and their question's text becomes their `description`. The case states gain
`submitted` (a resident's request waiting for the office to send it to a body).
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_STATES = ('open', 'in_progress', 'resolved', 'declined', 'confirmed')
NEW_STATES = ('submitted', 'open', 'in_progress', 'resolved', 'declined', 'confirmed')
CHANNELS = ('majlis', 'field_visit', 'app', 'website', 'phone', 'social_media', 'email')
OUTCOMES = ('fixed', 'partly_fixed', 'not_fixed')


def _states(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table('case_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('days_to_resolve', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('days_to_resolve > 0', name=op.f('ck_case_categories_days_positive')),
    sa.ForeignKeyConstraint(['body_id'], ['government_bodies.id'], name=op.f('fk_case_categories_body_id_government_bodies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_case_categories_code'))
    )
    with op.batch_alter_table('case_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_categories_body_id'), ['body_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', _states(CHANNELS, 'casechannel'), nullable=False,
                                      server_default='majlis'))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('category_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('place_address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('place_is_public', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('feedback_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('question_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('session_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('status', existing_type=_states(OLD_STATES, 'casestatus'),
                              type_=_states(NEW_STATES, 'casestatus'), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_cases_latitude_range'),
                                         'latitude IS NULL OR (latitude >= -90 AND latitude <= 90)')
        batch_op.create_check_constraint(op.f('ck_cases_longitude_range'),
                                         'longitude IS NULL OR (longitude >= -180 AND longitude <= 180)')
        batch_op.create_foreign_key(batch_op.f('fk_cases_category_id_case_categories'), 'case_categories',
                                    ['category_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cases_area_id_areas'), 'areas', ['area_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_cases_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_area_id'), ['area_id'], unique=False)
        batch_op.create_index('ix_cases_opened_at', ['opened_at'], unique=False)
        batch_op.create_index('ix_cases_resolved_at', ['resolved_at'], unique=False)

    # Every case so far came from a majlis question: its text is the case's description, its author's area the
    # case's area.
    op.execute("UPDATE cases SET description = (SELECT questions.body FROM questions "
               "WHERE questions.id = cases.question_id)")
    op.execute("UPDATE cases SET description = '' WHERE description IS NULL")
    op.execute("UPDATE cases SET area_id = (SELECT users.area_id FROM users WHERE users.id = cases.resident_id)")
    op.execute("UPDATE cases SET assigned_at = opened_at")  # a question's case went to its body when opened
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('description', existing_type=sa.Text(), nullable=False)
        # The defaults only filled the rows already there: writers set both on every new case.
        batch_op.alter_column('channel', existing_type=_states(CHANNELS, 'casechannel'), existing_nullable=False,
                              server_default=None)
        batch_op.alter_column('place_is_public', existing_type=sa.Boolean(), existing_nullable=False,
                              server_default=None)

    with op.batch_alter_table('case_updates', schema=None) as batch_op:
        batch_op.alter_column('old_status', existing_type=_states(OLD_STATES, 'casestatus_old'),
                              type_=_states(NEW_STATES, 'casestatus_old'), existing_nullable=True)
        batch_op.alter_column('new_status', existing_type=_states(OLD_STATES, 'casestatus_new'),
                              type_=_states(NEW_STATES, 'casestatus_new'), existing_nullable=True)

    op.create_table('case_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('outcome', _states(OUTCOMES, 'feedbackoutcome'), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_case_feedback_rating_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_feedback_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_feedback')),
    sa.UniqueConstraint('case_id', 'round', name=op.f('uq_case_feedback_case_id_round'))
    )
    with op.batch_alter_table('case_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_case_feedback_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    # Cases without a question cannot go back to the old shape: they (and their updates and answers) are dropped.
    op.drop_table('case_feedback')
    op.execute("DELETE FROM case_updates WHERE case_id IN (SELECT id FROM cases WHERE question_id IS NULL "
               "OR session_id IS NULL OR resident_id IS NULL OR status = 'submitted')")
    op.execute("DELETE FROM cases WHERE question_id IS NULL OR session_id IS NULL OR resident_id IS NULL "
               "OR status = 'submitted'")
    op.execute("UPDATE case_updates SET old_status = NULL WHERE old_status = 'submitted'")
    op.execute("UPDATE case_updates SET new_status = NULL WHERE new_status = 'submitted'")
    with op.batch_alter_table('case_updates', schema=None) as batch_op:
        batch_op.alter_column('new_status', existing_type=_states(NEW_STATES, 'casestatus_new'),
                              type_=_states(OLD_STATES, 'casestatus_new'), existing_nullable=True)
        batch_op.alter_column('old_status', existing_type=_states(NEW_STATES, 'casestatus_old'),
                              type_=_states(OLD_STATES, 'casestatus_old'), existing_nullable=True)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_resolved_at')
        batch_op.drop_index('ix_cases_opened_at')
        batch_op.drop_index(batch_op.f('ix_cases_area_id'))
        batch_op.drop_index(batch_op.f('ix_cases_category_id'))
        batch_op.drop_constraint(batch_op.f('fk_cases_area_id_areas'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_category_id_case_categories'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_cases_longitude_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_cases_latitude_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_cases_casechannel'), type_='check')
        batch_op.alter_column('status', existing_type=_states(NEW_STATES, 'casestatus'),
                              type_=_states(OLD_STATES, 'casestatus'), existing_nullable=False)
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('session_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('question_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('feedback_requested_at')
        batch_op.drop_column('place_is_public')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
        batch_op.drop_column('place_address')
        batch_op.drop_column('description')
        batch_op.drop_column('area_id')
        batch_op.drop_column('category_id')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_name')
        batch_op.drop_column('channel')
    with op.batch_alter_table('case_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_categories_body_id'))
    op.drop_table('case_categories')
