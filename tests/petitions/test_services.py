"""Petition lookups as pages and the API use them: drafts stay hidden, closing dates close petitions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions.models import PetitionStatus
from advocacy.petitions.services import PetitionNotFound, get_petition, public_petitions


def test_get_petition_finds_published_ones_by_slug(make_petition):
    opened = make_petition(slug="free-them-all")
    closed = make_petition(slug="closed-one", status=PetitionStatus.CLOSED)
    assert get_petition("free-them-all").id == opened.id
    assert get_petition("closed-one").id == closed.id


def test_drafts_are_hidden_unless_asked_for(make_petition):
    draft = make_petition(slug="work-in-progress", status=PetitionStatus.DRAFT)
    with pytest.raises(PetitionNotFound):
        get_petition("work-in-progress")
    assert get_petition("work-in-progress", include_drafts=True).id == draft.id


def test_an_unknown_slug_is_not_found(make_petition):
    make_petition()
    with pytest.raises(PetitionNotFound):
        get_petition("no-such-petition")
    with pytest.raises(PetitionNotFound):
        get_petition("no-such-petition", include_drafts=True)


def test_public_petitions_list_open_and_closed_but_never_drafts(make_petition):
    opened = make_petition()
    closed = make_petition(status=PetitionStatus.CLOSED)
    make_petition(status=PetitionStatus.DRAFT)
    assert [p.id for p in public_petitions()] == [opened.id, closed.id]


def test_only_open_leaves_out_closed_ones_and_those_past_their_closing_date(make_petition):
    now = utcnow()
    open_for_a_week = make_petition(closes_at=now + timedelta(days=7))
    make_petition(closes_at=now - timedelta(minutes=1))  # still marked open, but its date has passed
    make_petition(status=PetitionStatus.CLOSED)
    make_petition(status=PetitionStatus.DRAFT)
    open_forever = make_petition()
    assert [p.id for p in public_petitions(only_open=True)] == [open_for_a_week.id, open_forever.id]
    # a petition whose date has passed is still listed among all public ones, as closed
    everything = public_petitions()
    assert len(everything) == 4
    assert [p.is_open() for p in everything] == [True, False, False, True]


def test_public_petitions_follow_their_position(make_petition):
    third = make_petition(position=3)
    first = make_petition(position=1)
    second = make_petition(position=2)
    assert [p.id for p in public_petitions()] == [first.id, second.id, third.id]


def test_is_open_depends_on_status_and_closing_date(make_petition):
    closes_at = utcnow() + timedelta(days=1)
    petition = make_petition(closes_at=closes_at)
    assert petition.is_open()
    assert petition.is_open(now=closes_at - timedelta(seconds=1))
    # it closes at the moment given, not a moment later
    assert not petition.is_open(now=closes_at)
    assert not petition.is_open(now=closes_at + timedelta(days=1))
    assert not make_petition(status=PetitionStatus.CLOSED).is_open()
    assert not make_petition(status=PetitionStatus.DRAFT).is_open()
    assert make_petition().is_open(now=utcnow() + timedelta(days=3650))  # no date: open until closed


def test_closing_dates_are_kept_in_utc(make_petition):
    closes_at = utcnow().replace(microsecond=0) + timedelta(days=30)
    petition = make_petition(slug="dated", closes_at=closes_at)
    db.session.expire_all()
    found = get_petition("dated")
    assert found.id == petition.id
    assert found.closes_at == closes_at
    assert found.closes_at.utcoffset() == timedelta(0)
