"""Dashboard (issue 9): signatures per petition and hour (dashboard_hours), each petition's counts by state
(dashboard_snapshots), how far the rollup got (dashboard_progress), and two indexes on signatures for the job
(confirmed_at; petition and state of the suspect ones).

Revision ID: 9d1a5b7c3e21
Revises: f1b2c3d4e5a6
Create Date: 2026-11-29 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d1a5b7c3e21'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_hours',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_dashboard_hours_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('petition_id', 'hour', name=op.f('pk_dashboard_hours'))
    )
    op.create_table('dashboard_snapshots',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Integer(), nullable=False),
    sa.Column('invalidated', sa.Integer(), nullable=False),
    sa.Column('suspect', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_dashboard_snapshots_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('petition_id', name=op.f('pk_dashboard_snapshots'))
    )
    op.create_table('dashboard_progress',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('counted_to', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_dashboard_progress'))
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_confirmed_at', ['confirmed_at'], unique=False)
        batch_op.create_index('ix_signatures_petition_suspect', ['petition_id', 'state'], unique=False,
                              postgresql_where=sa.text('suspect'), sqlite_where=sa.text('suspect'))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_petition_suspect')
        batch_op.drop_index('ix_signatures_confirmed_at')
    op.drop_table('dashboard_progress')
    op.drop_table('dashboard_snapshots')
    op.drop_table('dashboard_hours')
