"""Petitions remember when the retention job erased the last of their signers' personal data
(personal_data_erased_at), so the hourly job no longer reads every signature of a petition erased long ago.

Revision ID: b6c2e8f0a413
Revises: 9d1a5b7c3e21
Create Date: 2026-11-28 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6c2e8f0a413'
down_revision = '9d1a5b7c3e21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_data_erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('personal_data_erased_at')
