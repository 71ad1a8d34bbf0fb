"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 09:26:51.941164
"""
from alembic import op
import sqlalchemy as sa
import crawler.store.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('capture',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('fetched_at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tool_version', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capture')),
    sa.UniqueConstraint('path', 'offset', name=op.f('uq_capture_path_offset'))
    )
    op.create_table('entity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=512), nullable=False),
    sa.Column('first_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_entity_kind_value'))
    )
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('handle', sa.String(length=255), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('about', sa.Text(), nullable=True),
    sa.Column('subscribers', sa.BigInteger(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('watched', sa.Boolean(), nullable=False),
    sa.Column('watch_priority', sa.Integer(), nullable=False),
    sa.Column('discovered_via', sa.String(length=16), nullable=False),
    sa.Column('discovery_depth', sa.Integer(), nullable=False),
    sa.Column('first_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_crawled', crawler.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('crawl_cursor', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_source_platform_external_id')),
    sa.UniqueConstraint('platform', 'handle', name=op.f('uq_source_platform_handle'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_table('verdict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('hits', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('scored_at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verdict')),
    sa.UniqueConstraint('subject_type', 'subject_id', name=op.f('uq_verdict_subject_type_subject_id'))
    )
    op.create_table('candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('assigned_to', sa.Integer(), nullable=True),
    sa.Column('claimed_at', crawler.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to'], ['user.id'], name=op.f('fk_candidate_assigned_to_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate')),
    sa.UniqueConstraint('subject_type', 'subject_id', name=op.f('uq_candidate_subject_type_subject_id'))
    )
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_queue', ['status', 'priority'], unique=False)

    op.create_table('post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('posted_at', crawler.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('edited_at', crawler.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('price', sa.String(length=255), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('forwarded_from', sa.String(length=255), nullable=True),
    sa.Column('forwarded_from_url', sa.Text(), nullable=True),
    sa.Column('reply_to', sa.String(length=255), nullable=True),
    sa.Column('media_kind', sa.String(length=32), nullable=True),
    sa.Column('media_url', sa.Text(), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('capture_id', sa.Integer(), nullable=True),
    sa.Column('first_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], name=op.f('fk_post_capture_id_capture'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_post_source_id_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_post_source_id_external_id'))
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_content_hash', ['content_hash'], unique=False)
        batch_op.create_index('ix_post_posted_at', ['posted_at'], unique=False)

    op.create_table('post_entity',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_post_entity_entity_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_entity_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'entity_id', name=op.f('pk_post_entity'))
    )
    with op.batch_alter_table('post_entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_entity_entity_id'), ['entity_id'], unique=False)

    op.create_table('post_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=True),
    sa.Column('seen_until', crawler.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], name=op.f('fk_post_revision_capture_id_capture'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_revision_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_revision'))
    )
    with op.batch_alter_table('post_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_revision_post_id'), ['post_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('post_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_revision_post_id'))

    op.drop_table('post_revision')
    with op.batch_alter_table('post_entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_entity_entity_id'))

    op.drop_table('post_entity')
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_posted_at')
        batch_op.drop_index('ix_post_content_hash')

    op.drop_table('post')
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_queue')

    op.drop_table('candidate')
    op.drop_table('verdict')
    op.drop_table('user')
    op.drop_table('source')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_subject')

    op.drop_table('event')
    op.drop_table('entity')
    op.drop_table('capture')
