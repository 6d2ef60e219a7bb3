"""Organiser, admin and liaison accounts: two-factor login, invitations, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from advocacy.config import Settings
from advocacy.features import ConsoleLink, Feature, Job

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from advocacy.accounts import sessions
    from advocacy.accounts.models import User
    from advocacy.extensions import db, login_manager

    app.session_interface = sessions.SplitSessionInterface()
    # no current_user in every template's context: console templates ask principal(), and public pages
    # never load an account
    login_manager.init_app(app, add_context_processor=False)
    # the console's own checks decide where an anonymous visitor goes (console_required)
    login_manager.login_view = None
    # Flask-Login's session protection hashes the client's address into the session; ours rests on the
    # epoch in the session id and the idle and absolute limits instead, and keeps no address anywhere
    login_manager.session_protection = None

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        ident, _, epoch = session_id.partition(":")
        if not ident.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.is_active or user.session_epoch != int(epoch):
            return None
        return user

    app.before_request(sessions.enforce_limits)
    app.jinja_env.globals["principal"] = sessions.current_principal


def feature(settings: Settings) -> Feature:
    from flask_babel import gettext as _

    from advocacy.accounts import actors, services
    from advocacy.accounts.cli import users_group
    from advocacy.accounts.views import bp

    return Feature(
        "accounts",
        blueprints=(bp,),
        init_app=(init_app,),
        actors=(actors.send_invitation,),
        jobs=(Job("purge-login-records", timedelta(hours=6), services.purge_login_records),),
        cli=users_group,
        console_links=(
            ConsoleLink("accounts.users", lambda: _("People"), lambda principal: principal.is_organiser, position=80),
            ConsoleLink("accounts.account", lambda: _("Your account"), lambda principal: True, position=90),
        ),
    )
