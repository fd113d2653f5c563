"""series held in person or hybrid: a series has the session's venue (format, place, hall seats)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:00:00

A series gains the columns a session has for where it is held (format, place names, address, area, coordinates and
the hall's seats), which its occurrences copy. Every existing series is online. Like a session's, a series' online
capacity may be 0 (an in-person series has no online seats).
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FORMATS = ('online', 'in_person', 'hybrid')


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', _enum(FORMATS, 'sessionformat'), nullable=False,
                                      server_default='online'))
        batch_op.add_column(sa.Column('place_name_ar', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('place_name_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('place_address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('place_area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('in_person_capacity', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_foreign_key(batch_op.f('fk_series_place_area_id_areas'), 'areas', ['place_area_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_series_capacity_positive'), type_='check')
        batch_op.create_check_constraint(op.f('ck_series_capacity_nonnegative'), 'capacity >= 0')
        batch_op.create_check_constraint(op.f('ck_series_in_person_capacity_nonnegative'), 'in_person_capacity >= 0')
        batch_op.create_check_constraint(op.f('ck_series_latitude_range'),
                                         'latitude IS NULL OR (latitude >= -90 AND latitude <= 90)')
        batch_op.create_check_constraint(op.f('ck_series_longitude_range'),
                                         'longitude IS NULL OR (longitude >= -180 AND longitude <= 180)')


def downgrade() -> None:
    # Series become online again (their stored occurrences keep their places); an in-person series gets a seat.
    op.execute("UPDATE series SET capacity = 1 WHERE capacity < 1")
    with op.batch_alter_table('series', schema=None) as batch_op:
        for name in ('longitude_range', 'latitude_range', 'in_person_capacity_nonnegative', 'capacity_nonnegative',
                     'sessionformat'):
            batch_op.drop_constraint(op.f(f'ck_series_{name}'), type_='check')
        batch_op.create_check_constraint(op.f('ck_series_capacity_positive'), 'capacity > 0')
        batch_op.drop_constraint(batch_op.f('fk_series_place_area_id_areas'), type_='foreignkey')
        for column in ('in_person_capacity', 'longitude', 'latitude', 'place_area_id', 'place_address',
                       'place_name_en', 'place_name_ar', 'format'):
            batch_op.drop_column(column)
