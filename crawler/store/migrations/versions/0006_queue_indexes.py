"""Indexes for the review app at 1M posts / 100k candidates: the queue's "oldest first" and
queue-age figures (status, created_at), "assigned to me" and claims (assigned_to), and the
dashboard's decisions per day (status, decided_at)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:40:00
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_candidate_status_created', 'candidate', ['status', 'created_at'])
    op.create_index('ix_candidate_assigned', 'candidate', ['assigned_to'])
    op.create_index('ix_candidate_status_decided', 'candidate', ['status', 'decided_at'])


def downgrade() -> None:
    op.drop_index('ix_candidate_status_decided', table_name='candidate')
    op.drop_index('ix_candidate_assigned', table_name='candidate')
    op.drop_index('ix_candidate_status_created', table_name='candidate')
