"""places, field visits and hybrid sessions (two seat pools); check-in at the door

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00

A session gains a format (online, in person, hybrid), a place (names, address, area, coordinates) and a hall's seat
pool beside the online one; the kinds gain `field_visit`. A registration says which pool it holds (every existing one
is online) and, in person, carries a check-in code and the moment of check-in. The online capacity may be 0 (an
in-person session has no online seats).
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_KINDS = ('weekly', 'coordinating', 'special')
NEW_KINDS = ('weekly', 'coordinating', 'special', 'field_visit')
FORMATS = ('online', 'in_person', 'hybrid')
MODES = ('online', 'in_person')


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_enum(OLD_KINDS, 'serieskind'),
                              type_=_enum(NEW_KINDS, 'serieskind'), existing_nullable=False)

    with op.batch_alter_table('majlis_sessions', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_enum(OLD_KINDS, 'serieskind'),
                              type_=_enum(NEW_KINDS, 'serieskind'), existing_nullable=False)
        batch_op.add_column(sa.Column('format', _enum(FORMATS, 'sessionformat'), nullable=False,
                                      server_default='online'))
        batch_op.add_column(sa.Column('place_name_ar', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('place_name_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('place_address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('place_area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('in_person_capacity', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('in_person_confirmed_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('in_person_waitlist_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_foreign_key(batch_op.f('fk_majlis_sessions_place_area_id_areas'), 'areas',
                                    ['place_area_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_majlis_sessions_capacity_positive'), type_='check')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_capacity_nonnegative'), 'capacity >= 0')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_in_person_capacity_nonnegative'),
                                         'in_person_capacity >= 0')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_in_person_confirmed_nonnegative'),
                                         'in_person_confirmed_count >= 0')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_in_person_waitlist_nonnegative'),
                                         'in_person_waitlist_count >= 0')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_latitude_range'),
                                         'latitude IS NULL OR (latitude >= -90 AND latitude <= 90)')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_longitude_range'),
                                         'longitude IS NULL OR (longitude >= -180 AND longitude <= 180)')

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', _enum(MODES, 'seatmode'), nullable=False, server_default='online'))
        batch_op.add_column(sa.Column('check_in_code', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registrations_session_check_in_code'),
                                          ['session_id', 'check_in_code'])


def downgrade() -> None:
    # Field visits become special sessions; in-person registrations and places are dropped with their columns.
    op.execute("DELETE FROM registrations WHERE mode = 'in_person'")
    op.execute("UPDATE majlis_sessions SET kind = 'special' WHERE kind = 'field_visit'")
    op.execute("UPDATE series SET kind = 'special' WHERE kind = 'field_visit'")
    op.execute("UPDATE majlis_sessions SET capacity = 1 WHERE capacity < 1")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registrations_session_check_in_code'), type_='unique')
        batch_op.drop_constraint(op.f('ck_registrations_seatmode'), type_='check')
        batch_op.drop_column('checked_in_at')
        batch_op.drop_column('check_in_code')
        batch_op.drop_column('mode')

    with op.batch_alter_table('majlis_sessions', schema=None) as batch_op:
        for name in ('longitude_range', 'latitude_range', 'in_person_waitlist_nonnegative',
                     'in_person_confirmed_nonnegative', 'in_person_capacity_nonnegative', 'capacity_nonnegative',
                     'sessionformat'):
            batch_op.drop_constraint(op.f(f'ck_majlis_sessions_{name}'), type_='check')
        batch_op.create_check_constraint(op.f('ck_majlis_sessions_capacity_positive'), 'capacity > 0')
        batch_op.drop_constraint(batch_op.f('fk_majlis_sessions_place_area_id_areas'), type_='foreignkey')
        for column in ('in_person_waitlist_count', 'in_person_confirmed_count', 'in_person_capacity', 'longitude',
                       'latitude', 'place_area_id', 'place_address', 'place_name_en', 'place_name_ar', 'format'):
            batch_op.drop_column(column)
        batch_op.alter_column('kind', existing_type=_enum(NEW_KINDS, 'serieskind'),
                              type_=_enum(OLD_KINDS, 'serieskind'), existing_nullable=False)

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_enum(NEW_KINDS, 'serieskind'),
                              type_=_enum(OLD_KINDS, 'serieskind'), existing_nullable=False)
