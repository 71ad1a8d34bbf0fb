"""The review app: analysts' display names, language, media setting and lock-out; API tokens;
a decision's policy, reason, decider and time on the candidate; a source's region and why it was
added by hand

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column('user', sa.Column('display_name', sa.String(length=128), nullable=True))
    op.add_column('user', sa.Column('locale', sa.String(length=8), nullable=False,
                                    server_default='ru'))
    op.add_column('user', sa.Column('blur_media', sa.Boolean(), nullable=False,
                                    server_default=sa.true()))
    op.add_column('user', sa.Column('failed_logins', sa.Integer(), nullable=False,
                                    server_default='0'))
    op.add_column('user', sa.Column('locked_until', TIME, nullable=True))
    op.add_column('user', sa.Column('last_login', TIME, nullable=True))
    # Plain ADD COLUMN, never a batch copy: rebuilding `candidate` on SQLite would drop the
    # table its alerts cascade from.
    op.add_column('candidate', sa.Column('policy', sa.String(length=64), nullable=True))
    op.add_column('candidate', sa.Column('reason', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE candidate ADD COLUMN decided_by INTEGER '
                   'CONSTRAINT fk_candidate_decided_by_user '
                   'REFERENCES user (id) ON DELETE SET NULL')
    else:
        op.add_column('candidate', sa.Column('decided_by', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_candidate_decided_by_user', 'candidate', 'user',
                              ['decided_by'], ['id'], ondelete='SET NULL')
    op.add_column('candidate', sa.Column('decided_at', TIME, nullable=True))
    op.add_column('source', sa.Column('region', sa.String(length=64), nullable=True))
    op.add_column('source', sa.Column('watch_reason', sa.Text(), nullable=True))
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('last_used_at', TIME, nullable=True),
    sa.Column('revoked_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_token_token_sha256'))
    )
    op.create_index(op.f('ix_api_token_user_id'), 'api_token', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_api_token_user_id'), table_name='api_token')
    op.drop_table('api_token')
    op.drop_column('source', 'watch_reason')
    op.drop_column('source', 'region')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_candidate_decided_by_user', 'candidate', type_='foreignkey')
    for column in ('decided_at', 'decided_by', 'reason', 'policy'):
        op.drop_column('candidate', column)
    for column in ('last_login', 'locked_until', 'failed_logins', 'blur_media', 'locale',
                   'display_name'):
        op.drop_column('user', column)
