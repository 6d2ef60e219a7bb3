"""Updates name their author, submitter and approver: the accounts 1 to 5 exist; signers are made directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies


@pytest.fixture(autouse=True)
def _staff(app: Flask, _clean_tables: None) -> None:
    from advocacy.accounts import services as accounts
    from advocacy.accounts.models import User

    with app.app_context():
        for ident in range(1, 6):
            address = f"staff{ident}@coalition.test"
            db.session.add(User(id=ident, email=address, email_index=accounts.email_index(address)))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("SELECT setval('users_id_seq', 5)"))
        db.session.remove()


@pytest.fixture
def signer(ctx: None) -> Callable[..., int]:
    """A signature in a given state, committed; counted in the tally when confirmed (and not suspect)."""
    counter = {"n": 0}

    def make(petition_id: int, email: str, *, locale: str = "en", state: SignatureState = SignatureState.CONFIRMED,
             opt_in: bool = True, suspect: bool = False, country: str = "UA", erased: bool = False) -> int:
        counter["n"] += 1
        signature = Signature(petition_id=petition_id, state=state, full_name=f"Signer {counter['n']}",
                              email=None if erased else email, email_index=None if erased else f"idx-{email}",
                              country=country, locale=locale, opt_in_news=opt_in, suspect=suspect,
                              confirmed_at=utcnow() if state == SignatureState.CONFIRMED else None)
        db.session.add(signature)
        db.session.flush()
        if state == SignatureState.CONFIRMED and not suspect:
            tallies.add(petition_id, country, +1)
        db.session.commit()
        return int(signature.id)

    return make


def organiser(user_id: int, campaign_id: int) -> Any:
    from advocacy.accounts.roles import Principal

    return Principal(user_id=user_id, campaign_ids=frozenset({campaign_id}))
