"""Service tests act as principals with small ids (organiser 1, admin 5…): those accounts exist."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from advocacy.extensions import db

ACCOUNTS = range(1, 11)


@pytest.fixture(autouse=True)
def _accounts(app: Flask, _clean_tables: None) -> None:
    from advocacy.accounts import services as accounts
    from advocacy.accounts.models import User

    with app.app_context():
        for ident in ACCOUNTS:
            address = f"organiser{ident}@coalition.test"
            db.session.add(User(id=ident, email=address, email_index=accounts.email_index(address)))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            with db.engine.begin() as conn:
                conn.execute(text("SELECT setval('users_id_seq', :last)"), {"last": ACCOUNTS[-1]})
        db.session.remove()
