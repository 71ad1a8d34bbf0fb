"""The daemon and the Telegram monitor: accounts, per-account channel access, job runs,
liveness of reported subjects, alerts sent; when a source was noticed gone and its MTProto
metadata

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:00:00

Access hashes are kept per account and channel (they differ between accounts), so a restart
builds input peers from the store instead of resolving usernames again.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=128), nullable=False),
    sa.Column('started_at', TIME, nullable=False),
    sa.Column('finished_at', TIME, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('stored', sa.Integer(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    op.create_index('ix_job_run_job', 'job_run', ['job_id', 'started_at'], unique=False)
    op.create_table('subject_liveness',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('how', sa.String(length=32), nullable=True),
    sa.Column('first_gone_at', TIME, nullable=True),
    sa.Column('back_at', TIME, nullable=True),
    sa.Column('last_checked_at', TIME, nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_liveness')),
    sa.UniqueConstraint('subject_type', 'subject_id', name=op.f('uq_subject_liveness_subject_type_subject_id'))
    )
    op.create_table('telegram_account',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('paused_until', TIME, nullable=True),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('last_success', TIME, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', TIME, nullable=True),
    sa.Column('flood_waits', sa.Integer(), nullable=False),
    sa.Column('flood_wait_seconds', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_telegram_account'))
    )
    op.create_table('telegram_peer',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('access_hash', sa.BigInteger(), nullable=False),
    sa.Column('joined', sa.Boolean(), nullable=False),
    sa.Column('resolved_at', TIME, nullable=False),
    sa.Column('last_polled', TIME, nullable=True),
    sa.ForeignKeyConstraint(['account'], ['telegram_account.name'], name=op.f('fk_telegram_peer_account_telegram_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_telegram_peer_source_id_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'account', name=op.f('pk_telegram_peer'))
    )
    op.create_index('ix_telegram_peer_due', 'telegram_peer', ['account', 'last_polled'], unique=False)
    op.create_table('alert_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('at', TIME, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_alert_sent_candidate_id_candidate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_sent')),
    sa.UniqueConstraint('candidate_id', 'channel', name=op.f('uq_alert_sent_candidate_id_channel'))
    )
    op.add_column('source', sa.Column('gone_at', TIME, nullable=True))
    op.add_column('source', sa.Column('gone_how', sa.String(length=32), nullable=True))
    op.add_column('source', sa.Column('restriction', sa.Text(), nullable=True))
    op.add_column('source', sa.Column('linked_chat_id', sa.BigInteger(), nullable=True))
    op.add_column('source', sa.Column('pinned_message_id', sa.BigInteger(), nullable=True))
    op.add_column('source', sa.Column('metadata_refreshed_at', TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source', schema=None) as batch_op:
        for column in ('metadata_refreshed_at', 'pinned_message_id', 'linked_chat_id',
                       'restriction', 'gone_how', 'gone_at'):
            batch_op.drop_column(column)
    op.drop_table('alert_sent')
    op.drop_index('ix_telegram_peer_due', table_name='telegram_peer')
    op.drop_table('telegram_peer')
    op.drop_table('telegram_account')
    op.drop_table('subject_liveness')
    op.drop_index('ix_job_run_job', table_name='job_run')
    op.drop_table('job_run')
