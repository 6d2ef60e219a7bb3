"""Absolute links for emails and feeds, built from ADVOCACY_BASE_URL and never from a request's Host header;
and the one check of a ``next`` path a page may send a reader back to."""

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


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None: never another origin (``//host``, ``/\\host``, a
    scheme), and nothing that could split a Location header."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
