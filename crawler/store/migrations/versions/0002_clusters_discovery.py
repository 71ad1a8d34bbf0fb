"""Near-duplicate clusters, discovery provenance, candidate evidence time, verdict detail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:44:17

Columns are added with plain ALTER TABLE (no batch rebuild): rebuilding `source` on SQLite
would drop and recreate a table that posts reference.
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cluster_head',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_cluster_head_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_cluster_head'))
    )
    op.create_table('cluster_band',
    sa.Column('hash', sa.BigInteger(), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('head_post_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['head_post_id'], ['cluster_head.post_id'], name=op.f('fk_cluster_band_head_post_id_cluster_head'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hash', 'band', 'head_post_id', name=op.f('pk_cluster_band'))
    )
    op.add_column('candidate', sa.Column('last_evidence_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('verdict', sa.Column('indicators', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('verdict', sa.Column('scores', sa.JSON(), nullable=False, server_default='{}'))
    op.create_index('ix_post_cluster_id', 'post', ['cluster_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE source ADD COLUMN discovered_from_id INTEGER '
                   'CONSTRAINT fk_source_discovered_from_id_source '
                   'REFERENCES source (id) ON DELETE SET NULL')
    else:
        op.add_column('source', sa.Column('discovered_from_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_source_discovered_from_id_source', 'source', 'source',
                              ['discovered_from_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_source_discovered_from_id_source', 'source', type_='foreignkey')
    op.drop_column('source', 'discovered_from_id')
    op.drop_index('ix_post_cluster_id', table_name='post')
    op.drop_column('candidate', 'last_evidence_at')
    op.drop_column('verdict', 'scores')
    op.drop_column('verdict', 'indicators')
    op.drop_table('cluster_band')
    op.drop_table('cluster_head')
