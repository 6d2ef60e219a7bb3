"""Outbox rows remember when their last attempt failed and whether the failure was the system's own
(SMTP login, sender or relay refused, server unreachable), so operators and /healthz can see failing mail.

Revision ID: 5d0e7a3c91f2
Revises: 5e2a9c0d7b41
Create Date: 2026-11-28 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d0e7a3c91f2'
down_revision = '5e2a9c0d7b41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('system_error', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('system_error')
        batch_op.drop_column('last_error_at')
