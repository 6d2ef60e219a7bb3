"""Confirmed signatures counted per petition and country."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.tallies import services

    return Feature("tallies", jobs=(Job("reconcile-tallies", timedelta(minutes=10), services.reconcile_all),))
