"""Fraud: keyed signals of every signature, quiet marking above a petition's thresholds, and the selection of
signatures organisers look at and act on."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.fraud import services
    from advocacy.fraud.views import bp

    return Feature("fraud", blueprints=(bp,), template_globals={"held_back": services.held_back})
