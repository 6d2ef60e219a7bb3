from __future__ import annotations

from flask import Blueprint, redirect
from werkzeug.wrappers import Response

from advocacy.accounts import sessions

bp = Blueprint("accounts", __name__)


@bp.post("/logout")
def logout() -> Response:
    sessions.end_session()
    return redirect(sessions.LOGIN_PATH, code=303)
