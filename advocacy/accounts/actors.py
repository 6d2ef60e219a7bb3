"""Background work for accounts: the invitation email. Actors take ids, re-check state, are safe to run twice."""

from __future__ import annotations

import logging

from dramatiq.middleware import CurrentMessage

from advocacy.accounts import services
from advocacy.accounts.models import Grant, Invitation, User
from advocacy.accounts.roles import Role
from advocacy.extensions import db
from advocacy.mail import PermanentDeliveryError, SystemDeliveryError
from advocacy.queue import actor
from advocacy.urls import external_url

log = logging.getLogger(__name__)


def deliver_invitation(user_id: int, invitation_id: int | None, grant_id: int | None, locale: str, *,
                       message_key: str | None = None) -> bool:
    """Send the invitation (a fresh link for a still usable invitation) or, for an account already in use,
    the notice of its new role. Nothing is sent for an invitation that was used, replaced or has expired."""
    from advocacy import mail
    from advocacy.petitions.models import Campaign, Target
    from advocacy.petitions.services import site_name

    user = db.session.get(User, user_id)
    if user is None or user.email is None or user.disabled_at is not None:
        return False
    context: dict[str, object] = {"site": site_name(locale), "login_url": external_url("accounts.login")}
    if invitation_id is not None:
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.user_id != user.id:
            return False
        try:
            services.read_invitation(services.invitation_token(invitation))
        except (services.InvitationGone, services.InvitationInvalid):
            return False
        context["invitation_url"] = external_url("accounts.invitation",
                                                 token=services.invitation_token(invitation))
        context["expires_at"] = invitation.expires_at
    grant = db.session.get(Grant, grant_id) if grant_id is not None else None
    context["role"] = grant.role.value if grant is not None else None
    if grant is not None and grant.role == Role.ORGANISER and grant.campaign_id is not None:
        campaign = db.session.get(Campaign, grant.campaign_id)
        context["scope"] = campaign.display_name(locale) if campaign else None
    elif grant is not None and grant.role == Role.LIAISON and grant.target_id is not None:
        target = db.session.get(Target, grant.target_id)
        context["scope"] = target.display_name(locale) if target else None
    rendered = mail.render("invitation", locale, **context)
    mail.send(mail.build_message(user.email, rendered, locale=locale, message_key=message_key))
    return True


@actor(services.SEND_INVITATION_ACTOR, queue_name="mail", max_retries=14, min_backoff=5_000,
       max_backoff=2 * 3600_000, throws=(PermanentDeliveryError,))
def send_invitation(user_id: int, invitation_id: int | None, grant_id: int | None, locale: str) -> None:
    message = CurrentMessage.get_current_message()
    outbox_id = message.options.get("outbox_id") if message else None
    key = f"outbox-{outbox_id}" if outbox_id is not None else None
    try:
        deliver_invitation(user_id, invitation_id, grant_id, locale, message_key=key)
    except SystemDeliveryError as exc:
        log.error("mail is failing: %s (outbox row %s is retried; see `advocacy outbox failures`)", exc, outbox_id)
        raise
    db.session.commit()
