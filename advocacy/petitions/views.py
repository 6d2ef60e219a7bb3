from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import ValidationError

from advocacy.cache import TTLCache, share_response, shared_seconds
from advocacy.events import services as events
from advocacy.extensions import csrf, db, limiter
from advocacy.i18n import current_locale, normalize_locale, remember_locale
from advocacy.petitions import services
from advocacy.petitions.models import Petition
from advocacy.petitions.services import PetitionNotFound
from advocacy.signatures import services as signatures
from advocacy.signatures.forms import SignForm, signer_from
from advocacy.stateless_csrf import check_form_csrf, form_meta
from advocacy.tallies import services as tallies
from advocacy.urls import local_path

bp = Blueprint("petitions", __name__)


def _petition_or_404(slug: str) -> Petition:
    try:
        return services.get_petition(slug)
    except PetitionNotFound:
        abort(404)


@bp.get("/")
def index() -> str:
    petitions = services.public_petitions()
    return render_template("petitions/index.html", petitions=petitions,
                           totals=tallies.totals([p.id for p in petitions]), upcoming_events=events.upcoming(limit=3))


def _render_petition(petition: Petition, form: SignForm, status: int = 200) -> tuple[str, int]:
    # the page is public: small per-country counts are hidden
    tally = tallies.public_tally(petition.id, current_locale())
    return render_template("petitions/show.html", petition=petition, form=form, tally=tally,
                           upcoming_events=events.upcoming(petition_id=petition.id, limit=5)), status


# A petition page is the same for every anonymous reader of a language, its form's token included (a
# stateless one, advocacy.csrf): it is rendered once every few seconds and served as it is, with no session
# and no cookie. A reader with a session of their own gets a page of their own with the session's token.
_page_cache: TTLCache[bytes] = TTLCache(maxsize=512)
SIGN_LIMITS = "20 per minute; 200 per hour"


def _sign_form_id(slug: str) -> str:
    """The form a sign token is bound to (advocacy.stateless_csrf)."""
    return f"sign:{slug}"


def _sign_form(petition: Petition | signatures.SigningPetition) -> SignForm:
    return SignForm(locale=current_locale(), postcode_required=petition.postcode_required,
                    meta=form_meta(_sign_form_id(petition.slug)))


def _petition_page(slug: str) -> bytes:
    petition = _petition_or_404(slug)
    return _render_petition(petition, _sign_form(petition))[0].encode()


# The sign form checks its own CSRF token so that an expired token re-shows the form with what was typed;
# the limits count sign POSTs only (advocacy.extensions.PostLimiter skips every other request).
@bp.route("/p/<slug>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(SIGN_LIMITS, methods=["POST"])
def show(slug: str) -> tuple[str | bytes, int] | WerkzeugResponse:
    if request.method != "POST":
        locale = current_locale()
        seconds = shared_seconds(float(current_app.config["PAGE_CACHE_SECONDS"]))
        page = _page_cache.get_or_make((slug, locale, request.query_string), seconds, lambda: _petition_page(slug))
        if seconds > 0:
            share_response(locale)  # the next anonymous readers may get this answer from in front of Flask
        return page, 200
    # signing reads only what it needs of the petition; the whole of it only to show the form again
    facts = signatures.signing_petition_shared(slug)
    if facts is None:
        abort(404)
    # The POST is read without building the form (its token checked as the form checks it, its fields read
    # as the form reads them); the form is built only to show it again with what was typed.
    try:
        check_form_csrf(request.form.get("csrf_token"), _sign_form_id(facts.slug))
    except ValidationError:
        form = _sign_form(facts)
        form.validate()  # the same refusal, now on the form's token field
        return _render_petition(_petition_or_404(slug), form, 400)
    try:
        # the address becomes keyed fraud signals only; the signature is all this request writes (standalone)
        signatures.sign(facts.id, signer_from(request.form, current_locale()), client_address=request.remote_addr,
                        petition=facts, standalone=True)
        db.session.commit()
    except signatures.SignatureRejected as rejected:
        form = _sign_form(facts)
        form.validate()
        for name, messages in rejected.errors.items():
            field = getattr(form, name, None)
            target = field.errors if field is not None else form.form_errors
            target.extend(messages)
        return _render_petition(_petition_or_404(slug), form, 400)
    # the slug of the URL: the committed petition's attributes are expired and would be read again
    return redirect(url_for("petitions.signed", slug=slug), code=303)


@bp.errorhandler(RateLimitExceeded)
def _too_many_signatures(error: RateLimitExceeded) -> tuple[str, int]:
    """The sign POST over its limits: the petition page again, the form filled with what was typed and a
    message to wait and send it again (429), rather than a bare error page."""
    slug = (request.view_args or {}).get("slug")
    if request.endpoint != "petitions.show" or not slug:
        raise error
    petition = _petition_or_404(slug)
    form = _sign_form(petition)  # filled from the request, not validated: nothing is checked or stored
    form.form_errors.append(_("Too many requests. Please wait a little and try again."))
    return _render_petition(petition, form, 429)


@bp.get("/p/<slug>/signed")
def signed(slug: str) -> str:
    return render_template("petitions/signed.html", petition=_petition_or_404(slug))


def _without_lang(target: str) -> str:
    """The page to go back to after choosing a language, without a ``lang`` it was opened with (an emailed
    link carries one): that would choose the old language again, overriding the new choice."""
    parts = urlsplit(target)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "lang"]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@bp.get("/language/<code>")
def set_language(code: str) -> Response:
    locale = normalize_locale(code)
    if locale is None:
        abort(404)
    back = local_path(request.args.get("next")) or url_for("petitions.index")
    response = make_response(redirect(_without_lang(back), code=303))
    remember_locale(response, locale)
    return response
