"""Updates to signers: updates (per-locale subject and Markdown body, moderation, sending bookkeeping, one per
milestone), update_deliveries (one per update and signature, claimed before sending) and the per-petition
switch for milestone emails.

Revision ID: e7f8a9b0c1d2
Revises: e3a992e0f944
Create Date: 2026-11-30 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from advocacy.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'e3a992e0f944'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('manual', 'milestone', name='updatekind', native_enum=False, length=10),
                  nullable=False),
        sa.Column('milestone', sa.String(length=40), nullable=True),
        sa.Column('subject', sa.JSON(), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'sending', 'sent', 'rejected',
                                    name='updatestatus', native_enum=False, length=10), nullable=False),
        sa.Column('author_user_id', sa.Integer(), nullable=True),
        sa.Column('submitted_by_user_id', sa.Integer(), nullable=True),
        sa.Column('approved_by_user_id', sa.Integer(), nullable=True),
        sa.Column('rejection_reason', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('submitted_at', UTCDateTime(), nullable=True),
        sa.Column('approved_at', UTCDateTime(), nullable=True),
        sa.Column('started_at', UTCDateTime(), nullable=True),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.Column('last_signature_id', sa.Integer(), nullable=True),
        sa.Column('cursor', sa.Integer(), server_default='0', nullable=False),
        sa.Column('recipients_total', sa.Integer(), nullable=True),
        sa.Column('next_batch_at', UTCDateTime(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['approved_by_user_id'], ['users.id'], name=op.f('fk_updates_approved_by_user_id_users')),
        sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_updates_author_user_id_users')),
        sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_updates_petition_id_petitions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['submitted_by_user_id'], ['users.id'],
                                name=op.f('fk_updates_submitted_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_updates')),
        sa.UniqueConstraint('petition_id', 'milestone', name=op.f('uq_updates_petition_id_milestone')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_updates_petition_id'), 'updates', ['petition_id'], unique=False)
    op.create_table(
        'update_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('claimed_at', UTCDateTime(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.Column('failure', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'],
                                name=op.f('fk_update_deliveries_signature_id_signatures'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['update_id'], ['updates.id'], name=op.f('fk_update_deliveries_update_id_updates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_update_deliveries')),
        sa.UniqueConstraint('update_id', 'signature_id', name=op.f('uq_update_deliveries_update_id_signature_id')),
    )
    op.create_index(op.f('ix_update_deliveries_signature_id'), 'update_deliveries', ['signature_id'], unique=False)
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('milestone_emails', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('milestone_emails')
    op.drop_index(op.f('ix_update_deliveries_signature_id'), table_name='update_deliveries')
    op.drop_table('update_deliveries')
    op.drop_index(op.f('ix_updates_petition_id'), table_name='updates')
    op.drop_table('updates')
