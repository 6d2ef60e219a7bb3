"""Moderation and country launch: petitions are submitted and approved (or rejected with a reason), each
step recorded in petition_transitions; a country petition names the campaign petition it was launched from
and its country. Campaigns get a sender name and an email footer; targets a contact address and a delivery
channel (email or an HTTPS webhook).

Revision ID: a28aed4afe6e
Revises: 80cfa709c821
Create Date: 2026-11-28 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a28aed4afe6e'
down_revision = '80cfa709c821'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('email_footer', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column(
            'delivery_channel', sa.Enum('email', 'webhook', name='deliverychannel', native_enum=False, length=10),
            server_default='email', nullable=False))
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=500), nullable=True))
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejection_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.create_index(batch_op.f('ix_petitions_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_petitions_parent_id_petitions'), 'petitions', ['parent_id'],
                                    ['id'])
    op.create_table('petition_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=10), nullable=False),
    sa.Column('to_status', sa.String(length=10), nullable=False),
    # no foreign key to users yet (see the model)
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'],
                            name=op.f('fk_petition_transitions_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_transitions'))
    )
    with op.batch_alter_table('petition_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_transitions_petition_id'), ['petition_id'], unique=False)


def downgrade():
    with op.batch_alter_table('petition_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_transitions_petition_id'))
    op.drop_table('petition_transitions')
    # a submitted or rejected petition was never public: it goes back to being a draft
    op.execute("UPDATE petitions SET status = 'draft' WHERE status IN ('submitted', 'rejected')")
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_petitions_parent_id_petitions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_petitions_parent_id'))
        batch_op.drop_column('country')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('rejection_reason')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('webhook_url')
        batch_op.drop_column('delivery_channel')
        batch_op.drop_column('contact_email')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('email_footer')
        batch_op.drop_column('sender_name')
