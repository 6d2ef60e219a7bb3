"""Events start as drafts until published, and carry a version that every edit names; events already stored
were public, so they are published as of their creation.

Revision ID: 7b3e1f4c2a86
Revises: 5d0e7a3c91f2
Create Date: 2026-11-28 01:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b3e1f4c2a86'
down_revision = '5d0e7a3c91f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.execute(sa.text('UPDATE events SET published_at = created_at'))


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('published_at')
