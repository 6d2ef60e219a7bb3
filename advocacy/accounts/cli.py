"""``advocacy users``: create the first admin, list, disable and invite accounts.

Each command commits once when all went well; an error is one line on stderr and exit code 1.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask.cli import with_appcontext

from advocacy.accounts import services
from advocacy.accounts.roles import SYSTEM, Forbidden, Role
from advocacy.extensions import db


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


@click.group("users")
def users_group() -> None:
    """Manage organiser, liaison and admin accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_group.command("create-admin")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def create_admin_command(email: str, password_stdin: bool) -> None:
    """Create an admin account with a password; the printed one-time link enrols the second factor."""
    from advocacy.urls import external_url

    password = _read_password(password_stdin)
    try:
        user, token = services.create_admin(email, password, actor=SYSTEM)
    except services.AccountError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"admin {user.email} created (account {user.id}).")
    click.echo("Open this one-time link within 72 hours to set up the second factor; it asks for the password:")
    click.echo(external_url("accounts.invitation", token=token))


@users_group.command("enrolment-link")
@click.argument("email")
@with_appcontext
def enrolment_link_command(email: str) -> None:
    """A new one-time set-up link for an account that has not enrolled its second factor yet."""
    from advocacy.urls import external_url

    user = services.find_user(email)
    if user is None:
        _fail("no account with this email address")
    try:
        token = services.enrolment_link(user.id, actor=SYSTEM)
    except services.AccountError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(external_url("accounts.invitation", token=token))


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every account: email, state and roles."""
    from advocacy.petitions.models import Campaign, Target

    for user in services.list_users(actor=SYSTEM):
        roles = []
        for grant in user.grants:
            if grant.campaign_id is not None:
                campaign = db.session.get(Campaign, grant.campaign_id)
                roles.append(f"{grant.role.value}:{campaign.slug if campaign else grant.campaign_id}")
            elif grant.target_id is not None:
                target = db.session.get(Target, grant.target_id)
                roles.append(f"{grant.role.value}:{target.slug if target else grant.target_id}")
            else:
                roles.append(grant.role.value)
        click.echo(f"{user.email}\t{services.user_state(user)}\t{' '.join(roles) or '-'}")


@users_group.command("disable")
@click.argument("email")
@with_appcontext
def disable_command(email: str) -> None:
    """Disable an account: it can no longer log in and its sessions end."""
    try:
        user = services.disable(email, actor=SYSTEM)
    except services.UserNotFound:
        _fail("no account with this email address")
    except services.AccountError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"disabled {user.email}")


@users_group.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--campaign", help="Slug of the campaign (organisers).")
@click.option("--target", help="Slug of the target institution (liaisons).")
@click.option("--locale", default="en", show_default=True, help="Language of the invitation email.")
@with_appcontext
def invite_command(email: str, role: str, campaign: str | None, target: str | None, locale: str) -> None:
    """Invite EMAIL (or give an existing account the role); the email goes out through the outbox."""
    from advocacy.petitions.services import find_campaign, find_target

    campaign_id = target_id = None
    if role == Role.ORGANISER:
        if not campaign:
            _fail("--role organiser needs --campaign SLUG")
        found_campaign = find_campaign(campaign)
        if found_campaign is None:
            _fail(f"no campaign {campaign!r}")
        campaign_id = found_campaign.id
    elif role == Role.LIAISON:
        if not target:
            _fail("--role liaison needs --target SLUG")
        found_target = find_target(target)
        if found_target is None:
            _fail(f"no target {target!r}")
        target_id = found_target.id
    try:
        user, invitation = services.invite(email, role=role, campaign_id=campaign_id, target_id=target_id,
                                           actor=SYSTEM, locale=locale)
    except (services.AccountError, Forbidden) as exc:
        _fail(exc.message)
    db.session.commit()
    if invitation is not None:
        click.echo(f"invitation for {user.email} queued (valid 72 hours)")
    else:
        click.echo(f"{user.email} now has the role {role}; a notice is queued")
