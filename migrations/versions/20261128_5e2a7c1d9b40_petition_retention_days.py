"""Petitions get a retention period: signers' names, emails and postcodes are erased this long after closing.

Revision ID: 5e2a7c1d9b40
Revises: 31cc51689bab
Create Date: 2026-11-28 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2a7c1d9b40'
down_revision = '31cc51689bab'
branch_labels = None
depends_on = None


def upgrade():
    # existing petitions get the default through the server default
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), server_default='180', nullable=False))


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('retention_days')
