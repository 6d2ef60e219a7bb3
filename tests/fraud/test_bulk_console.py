"""Bulk actions in the console: preview, start, the list and undo, as an organiser of the petition's campaign."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from advocacy.extensions import db
from advocacy.fraud.bulk_models import BulkAction, BulkKind, BulkStatus
from tests.fraud.test_bulk import NET, OTHER_NET, sign, stored
from tests.packets.test_stored import csrf


@pytest.fixture
def petition(make_petition: Any) -> dict[str, int]:
    petition = make_petition()
    sign(petition, 3, country="UA")
    sign(petition, 2, country="DE", suspect=True)
    sign(petition, 4, country="PL", network=OTHER_NET)
    from advocacy.tallies import services as tallies
    tallies.reconcile(petition.id, expected=True)
    db.session.commit()
    return {"petition": petition.id, "campaign": petition.campaign_id}


def base(ids: dict[str, int]) -> str:
    return f"/console/petitions/{ids['petition']}/fraud/bulk"


def test_preview_start_list_and_undo(app, client, login_as, petition, drain):
    login_as(client, organiser_of=[petition["campaign"]])
    page = client.get(f"{base(petition)}/preview?network={NET}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="count-invalidate">5<' in html
    assert 'id="count-clear_suspect">2<' in html

    path = f"{base(petition)}/preview?network={NET}"
    token = csrf(client, path)
    refused = client.post(path, data={"csrf_token": token, "action": "invalidate", "reason": ""})
    assert refused.status_code == 400
    assert "Please say why these signatures are invalid." in refused.get_data(as_text=True)

    started = client.post(path, data={"csrf_token": token, "action": "invalidate", "reason": "bot farm"})
    assert started.status_code == 303
    assert started.headers["Location"].endswith(f"{base(petition)}/")
    drain()
    with app.app_context():
        row = db.session.scalars(select(BulkAction)).one()
        assert (row.status, row.matched, row.processed) == (BulkStatus.DONE, 5, 5)
        assert row.filter == {"network": NET}
        assert stored(petition["petition"]) == {"PL": 4}
    listing = client.get(f"{base(petition)}/").get_data(as_text=True)
    assert "bot farm" in listing
    undo_path = f"{base(petition)}/{row.id}/undo"
    assert undo_path in listing

    undone = client.post(undo_path, data={"csrf_token": csrf(client, f"{base(petition)}/")})
    assert undone.status_code == 303
    drain()
    with app.app_context():
        restore = db.session.scalars(select(BulkAction).where(BulkAction.action == BulkKind.RESTORE)).one()
        assert (restore.status, restore.processed, restore.undoes_id) == (BulkStatus.DONE, 5, row.id)
        assert stored(petition["petition"]) == {"UA": 3, "PL": 4}
    assert undo_path not in client.get(f"{base(petition)}/").get_data(as_text=True)


def test_a_bad_filter_is_a_400_that_says_why(client, login_as, petition):
    login_as(client, organiser_of=[petition["campaign"]])
    answer = client.get(f"{base(petition)}/preview?country=XX")
    assert answer.status_code == 400
    assert "Please choose a country from the list." in answer.get_data(as_text=True)


def test_the_whole_petition_needs_the_confirmation(app, client, login_as, petition):
    login_as(client, organiser_of=[petition["campaign"]])
    path = f"{base(petition)}/preview"
    token = csrf(client, path)
    refused = client.post(path, data={"csrf_token": token, "action": "clear_suspect"})
    assert refused.status_code == 400
    assert client.post(path, data={"csrf_token": token, "action": "clear_suspect",
                                   "whole_petition": "y"}).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(BulkAction)).one().matched == 2


def test_organisers_of_another_campaign_get_403(app, client, login_as, petition):
    from advocacy.accounts.roles import SYSTEM
    from advocacy.petitions import services as petitions

    with app.app_context():
        other = petitions.create_campaign("other", actor=SYSTEM, name={"en": "Other"}, languages=["en"])
        db.session.commit()
        other_id = other.id
    login_as(client, organiser_of=[other_id])
    assert client.get(f"{base(petition)}/preview").status_code == 403
    assert client.get(f"{base(petition)}/").status_code == 403
