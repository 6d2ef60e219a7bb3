"""Fraud signals: signatures keep keyed hashes of the client address, its network and the email's domain
(the domain also sealed), and a suspect flag with its reason; petitions get the window and thresholds of
quiet marking.

Revision ID: d5e6f7a8b9c0
Revises: c4a1d2e3f5b6
Create Date: 2026-11-29 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e6f7a8b9c0'
down_revision = 'c4a1d2e3f5b6'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_signatures_petition_ip_created': ['petition_id', 'ip_hash', 'created_at'],
    'ix_signatures_petition_network_created': ['petition_id', 'network_hash', 'created_at'],
    'ix_signatures_petition_domain_created': ['petition_id', 'domain_hash', 'created_at'],
    'ix_signatures_petition_created_at': ['petition_id', 'created_at'],
}


def upgrade():
    # the table is rebuilt on SQLite: keep AUTOINCREMENT (ids in tokens and jobs are never reused)
    with op.batch_alter_table('signatures', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('ip_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('network_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('domain_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_domain', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('suspect', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('suspect_reason', sa.String(length=20), nullable=True))
    for name, columns in INDEXES.items():
        op.create_index(name, 'signatures', columns, unique=False)
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fraud_window_minutes', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('fraud_limit_address', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('fraud_limit_network', sa.Integer(), server_default='50', nullable=False))
        batch_op.add_column(sa.Column('fraud_limit_domain', sa.Integer(), server_default='300', nullable=False))


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        for column in ('fraud_limit_domain', 'fraud_limit_network', 'fraud_limit_address', 'fraud_window_minutes'):
            batch_op.drop_column(column)
    for name in INDEXES:
        op.drop_index(name, table_name='signatures')
    # the table is rebuilt on SQLite: keep AUTOINCREMENT (ids in tokens and jobs are never reused)
    with op.batch_alter_table('signatures', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        for column in ('suspect_reason', 'suspect', 'email_domain', 'domain_hash', 'network_hash', 'ip_hash'):
            batch_op.drop_column(column)
