"""The learned model's reasons beside the rules on each verdict: where the model decided a
category, its strongest features in an analyst's words ("rule sale.drop", "n-gram «клад»",
"bot link") and their weights (log-odds against "none"), so the candidate page and the API can
say why, as the issue asks ("where the model decided, its top contributing features"). The
column is nullable and has no default in the database: rows scored before this revision stay
NULL, which the code reads as an empty list (a plain ALTER TABLE, no table rebuild, and no
rewrite of every stored verdict).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('verdict', sa.Column('contributions', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('verdict', 'contributions')
