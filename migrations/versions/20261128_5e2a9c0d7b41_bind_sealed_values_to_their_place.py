"""Sealed values bound to their place (seal_id, format 2); the email index may be cleared on withdrawal.

Each signature gets a random seal_id; name, email and postcode are re-sealed in format 2, with table, column
and seal_id as associated data. Withdrawal now clears the email index too, so the column becomes nullable.

The data keys come from the Flask app running the migration (``advocacy.keyring``); the format conversion
is done here with ``cryptography`` so this file does not depend on the application's code.

Revision ID: 5e2a9c0d7b41
Revises: 5e2a7c1d9b40
Create Date: 2026-11-28 01:00:00

"""
import os
import uuid

from alembic import op
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


# revision identifiers, used by Alembic.
revision = '5e2a9c0d7b41'
down_revision = '5e2a7c1d9b40'
branch_labels = None
depends_on = None

UNBOUND = b"\x01"  # associated data: the header only
BOUND = b"\x02"    # associated data: the header + b"signatures\0<column>\0<seal_id>"
SEALED_COLUMNS = ('full_name', 'email', 'postcode')
BATCH = 500

signatures = sa.table(
    'signatures',
    sa.column('id', sa.Integer()),
    sa.column('seal_id', sa.String(32)),
    sa.column('email_index', sa.String(64)),
    *(sa.column(name, sa.LargeBinary()) for name in SEALED_COLUMNS),
)


def _data_keys():
    from flask import current_app

    return dict(current_app.extensions["advocacy.keyring"].data_keys)


def _convert(blob, keys, *, source, target, source_context, target_context):
    """Open a value sealed in one format and seal it again in the other, under the same key."""
    blob = bytes(blob)
    if blob[:1] != source:
        raise RuntimeError(f"unexpected ciphertext format {blob[:1]!r}")
    kid_len = blob[1]
    kid = blob[2:2 + kid_len]
    key = keys.get(kid.decode())
    if key is None:
        raise RuntimeError(f"data key {kid.decode()!r} is not configured: cannot convert the stored values")
    nonce = blob[2 + kid_len:14 + kid_len]
    plaintext = AESGCM(key).decrypt(nonce, blob[14 + kid_len:], blob[:2 + kid_len] + source_context)
    header = target + bytes([kid_len]) + kid
    new_nonce = os.urandom(12)
    return header + new_nonce + AESGCM(key).encrypt(new_nonce, plaintext, header + target_context)


def _context(column, seal_id):
    return f"signatures\0{column}\0{seal_id}".encode()


def _rows(bind):
    """Every signature, in batches by id, so a big table is not held in memory at once."""
    last = 0
    while True:
        rows = bind.execute(
            sa.select(signatures).where(signatures.c.id > last).order_by(signatures.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]['id']


def upgrade():
    with op.batch_alter_table('signatures', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('seal_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('email_index', existing_type=sa.String(length=64), nullable=True)

    bind = op.get_bind()
    keys = None
    for row in _rows(bind):
        seal_id = uuid.uuid4().hex
        values = {'seal_id': seal_id}
        for column in SEALED_COLUMNS:
            if row[column] is not None:
                keys = keys if keys is not None else _data_keys()
                values[column] = _convert(row[column], keys, source=UNBOUND, target=BOUND,
                                          source_context=b"", target_context=_context(column, seal_id))
        bind.execute(signatures.update().where(signatures.c.id == row['id']).values(**values))

    with op.batch_alter_table('signatures', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('seal_id', existing_type=sa.String(length=32), nullable=False)


def downgrade():
    bind = op.get_bind()
    keys = None
    for row in _rows(bind):
        values = {}
        for column in SEALED_COLUMNS:
            if row[column] is not None:
                keys = keys if keys is not None else _data_keys()
                values[column] = _convert(row[column], keys, source=BOUND, target=UNBOUND,
                                          source_context=_context(column, row['seal_id']), target_context=b"")
        if row['email_index'] is None:
            # withdrawn: the old schema needs an index; one that no address can produce, unique per row
            values['email_index'] = f"withdrawn:{row['id']}"
        if values:
            bind.execute(signatures.update().where(signatures.c.id == row['id']).values(**values))

    with op.batch_alter_table('signatures', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('email_index', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('seal_id')
