"""Login with two factors, invitations, the account page and the console's user pages. Thin: parse, call a
service, commit once, render or redirect."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from advocacy.accounts import forms, services, sessions
from advocacy.accounts.models import LoginOutcome, User
from advocacy.accounts.roles import Forbidden, Principal, Role
from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.crypto import DecryptionError, keyring
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.urls import local_path

bp = Blueprint("accounts", __name__)

# how long the steps between the password and the second factor may take
PENDING_LOGIN_SECONDS = 10 * 60
ENROL_SECONDS = 30 * 60

ROLE_LABELS = {
    Role.ADMIN: _l("Admin"),
    Role.ORGANISER: _l("Organiser"),
    Role.LIAISON: _l("Liaison"),
}
STATE_LABELS = {"active": _l("active"), "invited": _l("invited"), "disabled": _l("disabled")}


bp.after_request(private)  # one person's pages: never stored


def _client_address() -> str | None:
    # after ProxyFix (ADVOCACY_TRUSTED_PROXIES): only ever turned into a keyed hash, never stored
    return request.remote_addr


def _seal_secret(user_id: int, secret: str) -> str:
    """A TOTP secret not yet confirmed rides in the (signed, not encrypted) session: sealed for this account."""
    sealed = keyring().encrypt(secret, context=f"totp-pending\0{user_id}".encode())
    return base64.urlsafe_b64encode(sealed).decode()


def _open_secret(user_id: int, sealed: str) -> str | None:
    try:
        return keyring().decrypt(base64.urlsafe_b64decode(sealed), context=f"totp-pending\0{user_id}".encode())
    except (DecryptionError, ValueError):
        return None


def _fresh(stamp: Any, seconds: int) -> bool:
    try:
        return 0 <= utcnow().timestamp() - float(stamp) <= seconds
    except (TypeError, ValueError):
        return False


def _enrolment_page(template: str, user: User, secret: str, form: Any, **context: Any) -> str:
    uri = services.provisioning_uri(user, secret)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template(template, form=form, secret=grouped, account_email=user.email,
                           qr=services.qr_svg(uri, title=_("QR code of the secret for your authenticator app")),
                           **context)


# --- login -------------------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    target = local_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("console.home"))
    form = forms.LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user = services.login_password_step(form.email.data or "", form.password.data or "",
                                                address=_client_address())
        except services.Throttled as exc:
            db.session.commit()
            error, status = exc.message, 429
        except services.AccountError as exc:
            db.session.commit()
            error, status = exc.message, 400
        else:
            db.session.commit()
            sessions.clear_session()
            session["pending_login"] = {"user": user.id, "epoch": user.session_epoch,
                                        "at": utcnow().timestamp(), "next": target}
            return redirect(url_for("accounts.login_code"))
    elif request.method == "POST":
        status = 400
    expired = request.args.get("expired") == "1"
    return render_template("accounts/login.html", form=form, error=error, expired=expired), status


def _pending_user() -> User | None:
    pending = session.get("pending_login")
    if not isinstance(pending, dict) or not _fresh(pending.get("at"), PENDING_LOGIN_SECONDS):
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.is_active or user.session_epoch != pending.get("epoch"):
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Response | str | tuple[str, int]:
    user = _pending_user()
    if user is None:
        session.pop("pending_login", None)
        return redirect(url_for("accounts.login"))
    form = forms.CodeForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user, outcome = services.login_code_step(user.id, form.code.data or "", address=_client_address())
        except services.Throttled as exc:
            db.session.commit()
            error, status = exc.message, 429
        except services.AccountError as exc:
            db.session.commit()
            error, status = exc.message, 400
        else:
            target = local_path(session["pending_login"].get("next"))
            left = services.recovery_codes_left(user.id) if outcome == LoginOutcome.RECOVERY_CODE else None
            db.session.commit()
            sessions.start_session(user)  # a fresh session with a new id
            if left is not None:
                flash(_("You logged in with a recovery code; %(left)s are left. If you lost your phone, set up "
                        "a new authenticator in your account.", left=left), "error")
            return redirect(target or url_for("console.home"))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login_code.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Response:
    sessions.end_session()
    return redirect(sessions.LOGIN_PATH, code=303)


# --- invitations -------------------------------------------------------------------------------------------


def _invitation_gone(exc: Exception) -> tuple[str, int]:
    gone = isinstance(exc, services.InvitationGone)
    return render_template("accounts/invitation_invalid.html", gone=gone), 410 if gone else 404


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | str | tuple[str, int]:
    try:
        invitation = services.read_invitation(token)
    except (services.InvitationGone, services.InvitationInvalid) as exc:
        return _invitation_gone(exc)
    new_password = services.invitation_needs_new_password(invitation)
    form = forms.NewPasswordForm() if new_password else forms.KnownPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, form.password.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            sessions.end_session()  # whoever was logged in in this browser: this is another account now
            session["enrol"] = {"user": user.id, "secret": _seal_secret(user.id, services.new_totp_secret()),
                                "at": utcnow().timestamp()}
            return redirect(url_for("accounts.enrol"))
    return render_template("accounts/invitation.html", form=form, error=error, new_password=new_password,
                           account_email=invitation.user.email,
                           password_min=services.PASSWORD_MIN), 200 if error is None else 400


@bp.route("/invitation/enrol", methods=["GET", "POST"])
def enrol() -> Response | str | tuple[str, int]:
    pending = session.get("enrol")
    user = db.session.get(User, pending.get("user")) if isinstance(pending, dict) else None
    secret = _open_secret(user.id, str(pending.get("secret"))) if user is not None and pending else None
    if user is None or secret is None or not pending or not _fresh(pending.get("at"), ENROL_SECONDS) \
            or user.enrolled_at is not None:
        session.pop("enrol", None)
        return render_template("accounts/invitation_invalid.html", gone=True), 410
    form = forms.EnrolForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = services.enrol_second_factor(user.id, secret, form.code.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            sessions.start_session(user)
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    return _enrolment_page("accounts/enrol.html", user, secret, form, error=error), 200 if error is None else 400


# --- the account page --------------------------------------------------------------------------------------


@bp.get("/account")
@console_required
def account() -> str:
    user: User = current_user
    return render_template("accounts/account.html", form=forms.ChangePasswordForm(), email=user.email,
                           codes_left=services.recovery_codes_left(user.id), password_min=services.PASSWORD_MIN)


@bp.post("/account/password")
@console_required
def change_password() -> Response | tuple[str, int]:
    user_id = int(current_user.id)
    form = forms.ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.change_password(user_id, form.current.data or "", form.password.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            sessions.start_session(user)  # the other sessions ended with the old epoch; this one goes on
            flash(_("Your password has been changed. Your other sessions have ended."), "info")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, error=error, email=current_user.email,
                           codes_left=services.recovery_codes_left(user_id),
                           password_min=services.PASSWORD_MIN), 400


@bp.route("/account/second-factor", methods=["GET", "POST"])
@console_required
def second_factor() -> str | tuple[str, int]:
    user: User = current_user
    pending = session.get("new_factor")
    secret = None
    if isinstance(pending, dict) and pending.get("user") == user.id and _fresh(pending.get("at"), ENROL_SECONDS):
        secret = _open_secret(user.id, str(pending.get("secret")))
    if secret is None or request.method == "GET":
        secret = services.new_totp_secret()
        session["new_factor"] = {"user": user.id, "secret": _seal_secret(user.id, secret),
                                 "at": utcnow().timestamp()}
    form = forms.ResetSecondFactorForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = services.reset_second_factor(user.id, password=form.current.data or "",
                                                 code=form.code.data or "", new_secret=secret,
                                                 new_code=form.new_code.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            fresh = db.session.get(User, user.id)
            sessions.start_session(fresh)
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=False)
    return _enrolment_page("accounts/second_factor.html", user, secret, form,
                           error=error), 200 if error is None and request.method == "GET" else 400


# --- console: users ----------------------------------------------------------------------------------------


def _campaign_choices(principal: Principal) -> list[tuple[Any, str]]:
    from advocacy.petitions.models import Campaign

    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id))
    return [(c.id, c.display_name()) for c in campaigns if principal.can_organise(c.id)]


def _target_choices() -> list[tuple[Any, str]]:
    from advocacy.petitions.models import Target

    return [(t.id, t.display_name()) for t in db.session.scalars(select(Target).order_by(Target.id))]


def _role_choices(principal: Principal) -> list[tuple[str, Any]]:
    roles = list(Role) if principal.is_admin else [Role.ORGANISER]
    return [(role.value, ROLE_LABELS[role]) for role in roles]


def _scoped_form(form: Any, principal: Principal) -> Any:
    form.role.choices = _role_choices(principal)
    form.campaign.choices = [("", _("— none —")), *_campaign_choices(principal)]
    form.target.choices = [("", _("— none —")), *(_target_choices() if principal.is_admin else [])]
    return form


def _users_page(invite_form: Any, status: int = 200) -> tuple[str, int]:
    principal = acting()
    users = services.list_users(actor=principal) if principal.is_admin else []
    return render_template("accounts/users.html", users=users, form=invite_form, role_labels=ROLE_LABELS,
                           state_labels=STATE_LABELS, state=services.user_state,
                           scope_name=_scope_name, action=forms.ActionForm()), status


def _scope_name(grant: Any) -> str:
    from advocacy.petitions.models import Campaign, Target

    if grant.campaign_id is not None:
        campaign = db.session.get(Campaign, grant.campaign_id)
        return campaign.display_name() if campaign else ""
    if grant.target_id is not None:
        target = db.session.get(Target, grant.target_id)
        return target.display_name() if target else ""
    return ""


@bp.get("/console/users")
@console_required
def users() -> tuple[str, int]:
    principal = acting()
    if not principal.is_organiser:
        raise Forbidden()
    return _users_page(_scoped_form(forms.InviteForm(), principal))


@bp.post("/console/users/invite")
@console_required
def invite() -> Response | tuple[str, int]:
    principal = acting()
    if not principal.is_organiser:
        raise Forbidden()
    form = _scoped_form(forms.InviteForm(), principal)
    if not form.validate_on_submit():
        return _users_page(form, 400)
    try:
        services.invite(form.email.data or "", role=form.role.data, campaign_id=form.campaign.data,
                        target_id=form.target.data, actor=principal, locale=str(get_locale() or "en"))
    except services.AccountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _users_page(form, 400)
    db.session.commit()
    flash(_("The invitation is on its way to %(email)s.", email=form.email.data), "info")
    return redirect(url_for("accounts.users"))


@bp.get("/console/users/<int:user_id>")
@console_required
def user(user_id: int) -> str:
    principal = acting()
    if not principal.is_admin:
        raise Forbidden()
    try:
        account = services.get_user(user_id)
    except services.UserNotFound:
        abort(404)
    return render_template("accounts/user.html", account=account, form=_scoped_form(forms.GrantForm(), principal),
                           role_labels=ROLE_LABELS, state_labels=STATE_LABELS, state=services.user_state(account),
                           scope_name=_scope_name, action=forms.ActionForm())


def _admin_action(change: Any, user_id: int, done: str) -> Response:
    principal = acting()
    if not principal.is_admin:
        raise Forbidden()
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        change(principal)
    except services.UserNotFound:
        abort(404)
    except services.AccountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(done, "info")
    return redirect(url_for("accounts.user", user_id=user_id))


@bp.post("/console/users/<int:user_id>/disable")
@console_required
def disable(user_id: int) -> Response:
    return _admin_action(lambda actor: services.disable(user_id, actor=actor), user_id,
                         _("The account is disabled and its sessions have ended."))


@bp.post("/console/users/<int:user_id>/grants")
@console_required
def grant(user_id: int) -> Response:
    principal = acting()
    form = _scoped_form(forms.GrantForm(), principal)

    def change(actor: Principal) -> None:
        services.grant_role(user_id, form.role.data or "", campaign_id=form.campaign.data,
                            target_id=form.target.data, actor=actor)

    if not principal.is_admin:
        raise Forbidden()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(principal)
    except services.UserNotFound:
        abort(404)
    except (services.AccountError, ValueError) as exc:
        db.session.rollback()
        flash(getattr(exc, "message", _("Choose a role.")), "error")
    else:
        db.session.commit()
        flash(_("The role has been added."), "info")
    return redirect(url_for("accounts.user", user_id=user_id))


@bp.post("/console/users/<int:user_id>/grants/<int:grant_id>/revoke")
@console_required
def revoke(user_id: int, grant_id: int) -> Response:
    return _admin_action(lambda actor: services.revoke_role(grant_id, actor=actor, user_id=user_id), user_id,
                         _("The role has been removed."))
