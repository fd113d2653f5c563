"""overflow viewing (a session's stream and public viewing), attendance from the room's events, recordings and
transcripts as attachments, and the archive's full-text index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 09:00:00

The index objects differ by engine: an FTS5 table kept by triggers on SQLite, a generated tsvector column with a
GIN index on PostgreSQL. Published minutes already there are indexed here, with the normaliser of this revision.
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SQLITE_INDEX_DDL = (
    "CREATE VIRTUAL TABLE archive_fts USING fts5(search_text, content='archive_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER archive_documents_ai AFTER INSERT ON archive_documents BEGIN "
    "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER archive_documents_ad AFTER DELETE ON archive_documents BEGIN "
    "INSERT INTO archive_fts(archive_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER archive_documents_au AFTER UPDATE ON archive_documents BEGIN "
    "INSERT INTO archive_fts(archive_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)
POSTGRESQL_INDEX_DDL = (
    "ALTER TABLE archive_documents ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_archive_documents_search_vector ON archive_documents USING gin (search_vector)",
)


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both engines: a batch "move and copy" of majlis_sessions on SQLite would
    # drop the old table, and with foreign keys on, that deletes every row that cascades from a session.
    op.add_column('majlis_sessions', sa.Column('stream_url', sa.String(length=500), nullable=True))
    op.add_column('majlis_sessions', sa.Column('public_viewing', sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.add_column('registrations', sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('registrations', sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('registrations', sa.Column('seconds_present', sa.Integer(), nullable=False, server_default='0'))

    op.create_table(
        'room_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=128), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('participant', sa.String(length=200), nullable=True),
        sa.Column('is_visitor', sa.Boolean(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['majlis_sessions.id'],
                                name=op.f('fk_room_events_session_id_majlis_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_room_events_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_events')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_room_events_idempotency_key')),
    )
    op.create_index('ix_room_events_session_participant', 'room_events', ['session_id', 'participant'], unique=False)

    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('attachmentkind', ('recording', 'transcript', 'chat')), nullable=False),
        sa.Column('status', _enum('attachmentstatus', ('pending', 'stored', 'failed')), nullable=False),
        sa.Column('source_url', sa.Text(), nullable=True),
        sa.Column('source_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('storage_key', sa.String(length=300), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('in_draft', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['majlis_sessions.id'],
                                name=op.f('fk_attachments_session_id_majlis_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index('ix_attachments_session', 'attachments', ['session_id', 'kind'], unique=False)
    op.create_index('ix_attachments_due', 'attachments', ['status', 'next_attempt_at'], unique=False)

    op.create_table(
        'archive_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['majlis_sessions.id'],
                                name=op.f('fk_archive_documents_session_id_majlis_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_documents')),
        sa.UniqueConstraint('session_id', name=op.f('uq_archive_documents_session_id')),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_INDEX_DDL if dialect == 'sqlite' else POSTGRESQL_INDEX_DDL:
        op.execute(statement)
    _index_published_minutes()


def _index_published_minutes() -> None:
    """Put the latest published revision of every session's minutes into the index."""
    from datetime import UTC, datetime

    from majlis.minutes.fulltext import index_text

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT s.id, s.title_ar, s.title_en, r.number, r.body FROM minutes m "
        "JOIN majlis_sessions s ON s.id = m.session_id JOIN minutes_revisions r ON r.minutes_id = m.id "
        "WHERE m.status = 'published' AND r.number = (SELECT max(number) FROM minutes_revisions "
        "WHERE minutes_id = m.id)")).all()
    now = datetime.now(UTC)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)
    for session_id, title_ar, title_en, number, body in rows:
        bind.execute(sa.text("INSERT INTO archive_documents (session_id, revision, search_text, updated_at) "
                             "VALUES (:s, :r, :t, :u)"),
                     {"s": session_id, "r": number, "t": index_text(title_ar, title_en, body), "u": now})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS archive_fts")
    op.drop_table('archive_documents')
    op.drop_index('ix_attachments_due', table_name='attachments')
    op.drop_index('ix_attachments_session', table_name='attachments')
    op.drop_table('attachments')
    op.drop_index('ix_room_events_session_participant', table_name='room_events')
    op.drop_table('room_events')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: see upgrade().
    for table, column in (('registrations', 'seconds_present'), ('registrations', 'left_at'),
                          ('registrations', 'joined_at'), ('majlis_sessions', 'public_viewing'),
                          ('majlis_sessions', 'stream_url')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
