"""Fraud: keyed signals of every signature, quiet marking above a petition's thresholds, the trending view
and the signatures behind it, and bulk actions on a selection (issue 9)."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.fraud import bulk_models, services  # noqa: F401  (bulk_models: the tables)
    from advocacy.fraud.bulk_actors import run_bulk_action
    from advocacy.fraud.bulk_views import bp as bulk_bp
    from advocacy.fraud.views import bp

    return Feature("fraud", blueprints=(bp, bulk_bp), actors=(run_bulk_action,),
                   template_globals={"held_back": services.held_back})
