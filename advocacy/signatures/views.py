"""Confirming and withdrawing: the emailed link opens a page with a button; only its POST acts. A signer
who lost the email asks for a new link."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as WerkzeugResponse

from advocacy.crypto import SealBroken, TokenExpired, TokenInvalid, read_token
from advocacy.extensions import csrf, db, limiter
from advocacy.petitions import services as petitions
from advocacy.petitions.models import Petition
from advocacy.signatures import services
from advocacy.signatures.forms import NewLinkForm
from advocacy.signatures.models import Signature
from advocacy.signatures.services import ConfirmOutcome, SignatureNotFound, WithdrawOutcome
from advocacy.stateless_csrf import form_meta

bp = Blueprint("signatures", __name__)


class _BadLink(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


def _signature_id_from(purpose: str, token: str) -> int:
    """The signature id a link names; a bad link says only whether it expired, nothing about any signature."""
    try:
        signature_id = read_token(purpose, token)
    except TokenExpired as exc:
        raise _BadLink(expired=True) from exc
    except TokenInvalid as exc:
        raise _BadLink(expired=False) from exc
    if not isinstance(signature_id, int):
        raise _BadLink(expired=False)
    return signature_id


def _signature_from(purpose: str, token: str) -> Signature:
    try:
        return services.get_signature(_signature_id_from(purpose, token))
    except SignatureNotFound as exc:
        raise _BadLink(expired=False) from exc


@bp.errorhandler(_BadLink)
def _bad_link(error: _BadLink) -> tuple[str, int]:
    return render_template("signatures/bad_link.html", expired=error.expired), 410 if error.expired else 404


@bp.errorhandler(SealBroken)
def _seal_broken(error: SealBroken) -> tuple[str, int]:
    # already logged (table, column, row) where it was found; the page says nothing about the data
    db.session.rollback()
    return render_template("signatures/damaged.html"), 409


# The confirm page is read from the row and the petition's few columns (no ORM objects: confirmations come in
# bursts after a petition is shared), and its button carries a stateless token bound to the signature, so
# opening the emailed link gives the signer no session and no cookie.
@bp.route("/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token; a bad one gets the same answer as everywhere (CSRFError)
def confirm(token: str) -> str | tuple[str, int]:
    signature_id = _signature_id_from("confirm-signature", token)
    try:
        record, petition = read = services.confirming(signature_id)
    except SignatureNotFound as exc:
        raise _BadLink(expired=False) from exc
    # every sealed value is opened first: details that were tampered with are neither shown nor confirmed
    details = services.details(record)
    form = FlaskForm(meta=form_meta(f"confirm:{signature_id}"))
    if form.is_submitted():
        if not form.validate():
            raise CSRFError(" ".join(form.csrf_token.errors))
        # the confirmation is all this request writes (standalone); what was just read is not read again
        outcome = services.confirm(signature_id, read=read, standalone=True)
        db.session.commit()
        return render_template(
            "signatures/confirmed.html", petition=petition, outcome=outcome,
            withdraw_token=services.withdraw_token(signature_id)
            if outcome in (ConfirmOutcome.CONFIRMED, ConfirmOutcome.ALREADY_CONFIRMED) else None,
        )
    return render_template("signatures/confirm.html", petition=petition, state=record.state, details=details,
                           form=form, token=token, locale=str(get_locale()))


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str) -> str | tuple[str, int]:
    signature = _signature_from("withdraw-signature", token)
    form = FlaskForm()
    if form.validate_on_submit():
        outcome = services.withdraw(signature.id)
        db.session.commit()
        if outcome == WithdrawOutcome.NOT_WITHDRAWABLE:
            abort(409)
        return render_template("signatures/withdrawn.html", petition=signature.petition, outcome=outcome)
    return render_template("signatures/withdraw.html", signature=signature, form=form, token=token)


def _open_petition(slug: str) -> Petition:
    try:
        return petitions.get_petition(slug)
    except petitions.PetitionNotFound:
        abort(404)


@bp.route("/p/<slug>/new-link", methods=["GET", "POST"])
@limiter.limit("20 per minute; 200 per hour", methods=["POST"])
def new_link(slug: str) -> str | tuple[str, int] | WerkzeugResponse:
    """"Didn't get the email?" and "Lost your withdraw link?": the same answer whether or not the address
    signed, so the page never tells anybody who did."""
    petition = _open_petition(slug)
    form = NewLinkForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("signatures/new_link.html", petition=petition, form=form), 400
        try:
            services.request_new_link(petition.id, form.email.data or "")
        except services.SignatureRejected as rejected:
            form.email.errors = list(rejected.errors.get("email", []))
            return render_template("signatures/new_link.html", petition=petition, form=form), 400
        db.session.commit()
        return redirect(url_for("signatures.new_link_sent", slug=petition.slug), code=303)
    return render_template("signatures/new_link.html", petition=petition, form=form)


@bp.get("/p/<slug>/new-link/sent")
def new_link_sent(slug: str) -> str:
    return render_template("signatures/new_link_sent.html", petition=_open_petition(slug))
