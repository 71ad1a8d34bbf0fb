"""Evidence packages exported and imported (one row per package, with its recipient or sender),
where an imported candidate came from (the sending organisation, its package and its decision),
and the flag of a low-scoring post sampled into the spot-check queue so recall can be measured

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('evidence_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=True),
    sa.Column('organisation', sa.String(length=128), nullable=True),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('file_name', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('subjects', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('posts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('key_fingerprint', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_package')),
    sa.UniqueConstraint('package_id', 'direction', name=op.f('uq_evidence_package_package_id_direction')),
    )
    op.add_column('candidate', sa.Column('origin_org', sa.String(length=128), nullable=True))
    op.add_column('candidate', sa.Column('origin_package', sa.String(length=64), nullable=True))
    op.add_column('candidate', sa.Column('origin_decision', sa.String(length=16), nullable=True))
    op.add_column('candidate', sa.Column('sampled', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))


def downgrade() -> None:
    for column in ('sampled', 'origin_decision', 'origin_package', 'origin_org'):
        op.drop_column('candidate', column)
    op.drop_table('evidence_package')
