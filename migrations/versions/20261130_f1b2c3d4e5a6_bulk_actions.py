"""Bulk actions on signatures (issue 9): bulk_actions, and bulk_action_items holding each changed signature's
previous state and suspect flag so an invalidation can be undone exactly.

Revision ID: f1b2c3d4e5a6
Revises: e7f8a9b0c1d2
Create Date: 2026-11-28 08:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b2c3d4e5a6'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('invalidate', 'clear_suspect', 'restore', name='bulkkind', native_enum=False, length=16), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('undoes_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='bulkstatus', native_enum=False, length=10), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_bulk_actions_actor_user_id_users')),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_bulk_actions_petition_id_petitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['undoes_id'], ['bulk_actions.id'], name=op.f('fk_bulk_actions_undoes_id_bulk_actions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_actions'))
    )
    with op.batch_alter_table('bulk_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_actions_petition_id'), ['petition_id'], unique=False)

    op.create_table('bulk_action_items',
    sa.Column('bulk_action_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('previous_state', sa.Enum('pending', 'confirmed', 'invalidated', 'withdrawn', name='signaturestate', native_enum=False, length=12), nullable=False),
    sa.Column('previous_suspect', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['bulk_action_id'], ['bulk_actions.id'], name=op.f('fk_bulk_action_items_bulk_action_id_bulk_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_bulk_action_items_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulk_action_id', 'signature_id', name=op.f('pk_bulk_action_items'))
    )


def downgrade():
    op.drop_table('bulk_action_items')
    with op.batch_alter_table('bulk_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_actions_petition_id'))
    op.drop_table('bulk_actions')
