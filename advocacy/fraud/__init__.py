"""Fraud handling: filters over a petition's signatures and bulk actions on them (issue 9)."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.fraud import bulk_models  # noqa: F401  (the tables)
    from advocacy.fraud.bulk_actors import run_bulk_action
    from advocacy.fraud.bulk_views import bp

    return Feature("fraud", blueprints=(bp,), actors=(run_bulk_action,))
