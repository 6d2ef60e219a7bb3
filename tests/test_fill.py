"""The benchmarks' fill script stores signatures the app can read as its own."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import select

from advocacy.extensions import db
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import email_index
from advocacy.tallies import services as tallies


def _fill_module():
    spec = importlib.util.spec_from_file_location("fill", Path(__file__).parents[1] / "benchmarks" / "fill.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_filled_signatures_open_count_and_continue_numbering(make_petition):
    fill = _fill_module()
    petition = make_petition()
    assert fill.fill(petition.id, 120, confirmed=0.5, batch=50) == 120
    assert fill.fill(petition.id, 30, confirmed=1.0, batch=50) == 30  # a second fill adds, never collides

    rows = db.session.scalars(select(Signature).where(Signature.petition_id == petition.id)).all()
    assert len(rows) == 150
    confirmed = [row for row in rows if row.state == SignatureState.CONFIRMED]
    assert 30 < len(confirmed) < 150
    assert tallies.tally(petition.id).total == len(confirmed)
    for row in rows[:20] + rows[-20:]:
        assert row.full_name.startswith("Signer ")
        assert row.email_index == email_index(petition.id, row.email)
        assert row.email.endswith("@" + row.email_domain)
        assert len(row.ip_hash) == len(row.network_hash) == len(row.domain_hash) == 64
