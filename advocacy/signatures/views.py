"""Confirming and withdrawing: the emailed link opens a page with a button; only its POST acts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_wtf import FlaskForm

from advocacy.crypto import TokenExpired, TokenInvalid, read_token
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import ConfirmOutcome, SignatureNotFound, WithdrawOutcome

bp = Blueprint("signatures", __name__)


def _signature_from(purpose: str, token: str) -> Signature | None:
    try:
        signature_id = read_token(purpose, token)
    except TokenExpired:
        return None
    except TokenInvalid:
        return None
    if not isinstance(signature_id, int):
        return None
    try:
        return services.get_signature(signature_id)
    except SignatureNotFound:
        return None


def _bad_link(purpose: str, token: str) -> tuple[str, int]:
    try:
        read_token(purpose, token)
        expired = False
    except TokenExpired:
        expired = True
    except TokenInvalid:
        expired = False
    return render_template("signatures/bad_link.html", expired=expired), 404 if not expired else 410


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str | tuple[str, int]:
    signature = _signature_from("confirm-signature", token)
    if signature is None:
        return _bad_link("confirm-signature", token)
    form = FlaskForm()
    if form.validate_on_submit():
        outcome = services.confirm(signature.id)
        signature = services.get_signature(signature.id)
        return render_template(
            "signatures/confirmed.html", signature=signature, outcome=outcome,
            withdraw_token=services.withdraw_token(signature.id)
            if outcome in (ConfirmOutcome.CONFIRMED, ConfirmOutcome.ALREADY_CONFIRMED) else None,
        )
    return render_template("signatures/confirm.html", signature=signature, form=form, token=token,
                           locale=str(get_locale()))


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str) -> str | tuple[str, int]:
    signature = _signature_from("withdraw-signature", token)
    if signature is None:
        return _bad_link("withdraw-signature", token)
    form = FlaskForm()
    if form.validate_on_submit():
        outcome = services.withdraw(signature.id)
        if outcome == WithdrawOutcome.NOT_WITHDRAWABLE:
            abort(409)
        return render_template("signatures/withdrawn.html", petition=signature.petition, outcome=outcome)
    return render_template("signatures/withdraw.html", signature=signature, form=form, token=token)
