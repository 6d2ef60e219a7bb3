"""Public: the packet signing key as a JWK set, and /verify, where anyone can check a packet they were given."""

from __future__ import annotations

import tempfile

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _

from advocacy.extensions import limiter
from advocacy.packets import verify as verifying
from advocacy.packets.signing import fingerprint, packet_keys

bp = Blueprint("packets", __name__)
# the upload alone may be this large (a packet of a million signatures is about 20 MB); every other form
# keeps the app's small limit
VERIFY_MAX_BYTES = 256 * 1024 * 1024


@bp.get("/.well-known/packet-signing-key")
def signing_key() -> Response:
    response = jsonify(packet_keys().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public key: any verifier may fetch it
    response.content_type = "application/jwk-set+json"
    return response


def _fingerprints() -> list[str]:
    return [fingerprint(key) for key in packet_keys().public_keys]


@bp.get("/verify")
def verify_form() -> str:
    return render_template("packets/verify.html", fingerprints=_fingerprints(), report=None, error=None)


# No CSRF token: the upload changes nothing anywhere, and checking the token would read the body under the
# app's small limit before this view could raise it.
@bp.post("/verify")
@limiter.limit("10 per minute; 60 per hour")
def verify_upload() -> tuple[str, int]:
    request.max_content_length = VERIFY_MAX_BYTES
    upload = request.files.get("packet")
    if upload is None or not upload.filename:
        return render_template("packets/verify.html", fingerprints=_fingerprints(), report=None,
                               error=_("Please choose the packet’s zip file.")), 400
    with tempfile.TemporaryFile() as copy:
        upload.save(copy)
        copy.seek(0)
        report = verifying.verify(copy, packet_keys().public_keys)
    return render_template("packets/verify.html", fingerprints=_fingerprints(), report=report, error=None,
                           filename=upload.filename), 200 if report.ok else 422
