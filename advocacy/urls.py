"""Absolute links for emails and feeds, built from ADVOCACY_BASE_URL and never from a request's Host header."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` under ADVOCACY_BASE_URL (a Host header can be forged; this cannot)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def webcal(url: str) -> str:
    """The same feed for calendar apps: webcal:// tells them to subscribe rather than download."""
    return "webcal://" + url.split("://", 1)[1]
