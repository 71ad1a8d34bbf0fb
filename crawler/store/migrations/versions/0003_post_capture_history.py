"""Every capture that showed a post (post_capture), not only one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:30:00

A post kept only one capture: after that record was damaged, later crawls indexed fresh verified
captures of the same page that the post never reached. The link table keeps them all; it is
filled from the captures posts and their earlier texts already point at.
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('post_capture',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], name=op.f('fk_post_capture_capture_id_capture'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_capture_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'capture_id', name=op.f('pk_post_capture'))
    )
    op.create_index(op.f('ix_post_capture_capture_id'), 'post_capture', ['capture_id'], unique=False)
    op.execute('INSERT INTO post_capture (post_id, capture_id) '
               'SELECT id, capture_id FROM post WHERE capture_id IS NOT NULL '
               'UNION SELECT post_id, capture_id FROM post_revision '
               'WHERE capture_id IS NOT NULL')


def downgrade() -> None:
    op.drop_index(op.f('ix_post_capture_capture_id'), table_name='post_capture')
    op.drop_table('post_capture')
