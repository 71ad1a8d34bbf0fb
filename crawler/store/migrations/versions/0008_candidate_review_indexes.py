"""Two indexes for the review app at 100k candidates: (category, score) for the queue filtered
by category and score range and sorted by score (it scanned and sorted every candidate), and
(status, claimed_at) for "take next" finding an expired claim (it walked every claimed
candidate in priority order looking for one)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:15:00
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_candidate_category_score', 'candidate', ['category', 'score'])
    op.create_index('ix_candidate_status_claimed', 'candidate', ['status', 'claimed_at'])
    if op.get_bind().dialect.name == "sqlite":
        # Without statistics on the new index SQLite may walk it for the open queue too
        # (status = 'open', then sort them all) instead of (status, priority) in order.
        op.execute("ANALYZE candidate")


def downgrade() -> None:
    op.drop_index('ix_candidate_status_claimed', table_name='candidate')
    op.drop_index('ix_candidate_category_score', table_name='candidate')
