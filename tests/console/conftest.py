"""Console tests often keep an app context open (``ctx``) while test clients make requests: those requests
then share its ``g``, where the account, the acting principal and the CSRF token are cached. Forget them
when each request starts, so two clients logged in as two people are two people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g, request_started


@pytest.fixture(autouse=True)
def _principal_per_request(app: Flask) -> Iterator[None]:
    def forget(sender: Any, **extra: Any) -> None:
        g.pop("principal", None)
        g.pop("_login_user", None)  # Flask-Login caches the account there too
        g.pop("csrf_token", None)  # and Flask-WTF the session's CSRF token

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)
