"""Fill a petition with N signatures quickly, through the same encryption and blind index as signing.

    .venv/bin/python benchmarks/fill.py PETITION_SLUG COUNT [--confirmed 0.9] [--days 30] [--batch 5000]

Runs against the configured database (ADVOCACY_DATABASE_URL, or the embedded SQLite of
ADVOCACY_INSTANCE_PATH), which must already be at the migrations' head and hold the petition. The dashboard,
bulk-action and packet benchmarks import ``fill`` and call it inside their own app context.

Each row is what a real signature holds: name, email, postcode and email domain sealed with AES-GCM and
bound to the row's seal id, the per-petition blind index of the email, keyed hashes of a client address,
its network and the email domain, a country drawn from a campaign-like distribution, and a creation time
spread over the last ``days`` days. Rows go in with Core multi-row INSERTs, ``batch`` at a time, one commit
per batch; the tally shards are rebuilt from the rows at the end. Addresses are
``fill-<petition>-<n>@<domain>`` under reserved example domains (``fill-<petition>-s<seed>-<n>@…`` for a
seed other than 1), so a second fill of the same petition continues the numbering instead of colliding; after
signatures were deleted (the purge of expired ones), fill again with another ``--seed``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any

COUNTRY_WEIGHTS = {
    "UA": 30, "PL": 12, "DE": 12, "GB": 8, "FR": 7, "LT": 5, "CZ": 5, "NL": 4, "RU": 4, "US": 4,
    "LV": 2, "EE": 2, "SE": 2, "IT": 2, "ES": 1,
}
DOMAINS = ("example.org", "example.net", "example.com", "mail.example", "post.example")
LOCALES = ("en", "uk", "ru")


def fill(petition_id: int, count: int, *, confirmed: float = 0.9, days: float = 30.0, batch: int = 5000,
         seed: int = 1, now: datetime | None = None, progress: bool = False) -> int:
    """Insert ``count`` signatures into a petition; commits per batch; returns the number inserted.

    Call inside an app context. ``confirmed`` is the share that is confirmed (the rest are pending).
    """
    from sqlalchemy import func, insert, select

    from advocacy.crypto import keyring, new_seal_id, seal_context
    from advocacy.dbtypes import utcnow
    from advocacy.extensions import db
    from advocacy.signatures.models import Signature, SignatureState
    from advocacy.signatures.services import email_index
    from advocacy.tallies import services as tallies

    keys = keyring()
    table = Signature.__table__
    rng = random.Random(seed * 1_000_003 + petition_id)
    codes, weights = zip(*COUNTRY_WEIGHTS.items(), strict=True)
    now = now or utcnow()
    span = max(days, 0.01) * 86400.0
    start = int(db.session.scalar(select(func.count()).select_from(table).where(table.c.petition_id == petition_id))
                or 0)

    def seal(column: str, seal_id: str, value: str) -> bytes:
        return keys.encrypt(value, context=seal_context("signatures", column, seal_id))

    inserted = 0
    began = time.perf_counter()
    while inserted < count:
        rows: list[dict[str, Any]] = []
        for number in range(start + inserted, start + min(inserted + batch, count)):
            seal_id = new_seal_id()
            domain = DOMAINS[number % len(DOMAINS)]
            address = f"fill-{petition_id}-{number}@{domain}" if seed == 1 else \
                f"fill-{petition_id}-s{seed}-{number}@{domain}"
            client = f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            created_at = now - timedelta(seconds=rng.random() * span)
            is_confirmed = rng.random() < confirmed
            rows.append({
                "petition_id": petition_id,
                "state": (SignatureState.CONFIRMED if is_confirmed else SignatureState.PENDING).value,
                "seal_id": seal_id,
                "full_name": seal("full_name", seal_id, f"Signer {number}"),
                "email": seal("email", seal_id, address),
                "email_index": email_index(petition_id, address),
                "country": rng.choices(codes, weights)[0],
                "postcode": None,
                "locale": LOCALES[number % len(LOCALES)],
                "consent_share_name": number % 5 != 0,
                "opt_in_news": number % 3 == 0,
                "created_at": created_at,
                "confirmed_at": created_at + timedelta(minutes=rng.randrange(1, 240)) if is_confirmed else None,
                "emails_sent": 1,
                "email_window_started_at": created_at,
                "ip_hash": keys.blind_index(client, purpose=f"fraud-ip:{petition_id}"),
                "network_hash": keys.blind_index(client.rsplit(".", 1)[0] + ".0/24",
                                                 purpose=f"fraud-network:{petition_id}"),
                "domain_hash": keys.blind_index(domain, purpose=f"fraud-domain:{petition_id}"),
                "email_domain": seal("email_domain", seal_id, domain),
                "suspect": False,
            })
        db.session.execute(insert(table), rows)
        db.session.commit()
        inserted += len(rows)
        if progress:
            rate = inserted / max(time.perf_counter() - began, 1e-9)
            print(f"  {inserted:>9,} / {count:,} signatures ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    tallies.reconcile(petition_id, expected=True)
    db.session.commit()
    return inserted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("petition", help="the petition's slug")
    parser.add_argument("count", type=int)
    parser.add_argument("--confirmed", type=float, default=0.9, help="share of confirmed signatures (0..1)")
    parser.add_argument("--days", type=float, default=30.0, help="spread creation times over this many days")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.count < 0 or not 0 <= args.confirmed <= 1 or args.batch < 1:
        parser.error("COUNT must be >= 0, --confirmed between 0 and 1, --batch >= 1")

    from advocacy import cache, create_app
    from advocacy.petitions import services as petitions

    app = create_app()
    with app.app_context():
        try:
            petition = petitions.get_petition(args.petition, include_drafts=True)
        except petitions.PetitionNotFound:
            sys.exit(f"no petition with the slug {args.petition!r}")
        began = time.perf_counter()
        done = fill(petition.id, args.count, confirmed=args.confirmed, days=args.days, batch=args.batch,
                    seed=args.seed, progress=True)
        elapsed = time.perf_counter() - began
        cache.clear_all()
    print(f"{done:,} signatures added to {args.petition} in {elapsed:.1f} s ({done / max(elapsed, 1e-9):,.0f}/s)")


if __name__ == "__main__":
    main()
