"""Campaigns, targets and petitions carry a version that every change bumps (a stale edit is refused);
campaigns and targets are drafts until published. What exists already was public: it is published now.

Revision ID: 7b1c4e9a2d60
Revises: 7b3e1f4c2a86
Create Date: 2026-11-28 01:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b1c4e9a2d60'
down_revision = '7b3e1f4c2a86'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('campaigns', 'targets'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.execute("UPDATE campaigns SET published_at = created_at")
    op.execute("UPDATE targets SET published_at = CURRENT_TIMESTAMP")


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('version')
    for table in ('targets', 'campaigns'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
            batch_op.drop_column('published_at')
