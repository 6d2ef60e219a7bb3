"""Writing a signature packet: one petition, one target, a cut-off; one zip, streamed in batches.

What counts: the petition's signatures that were confirmed at or before the cut-off and still are (not
withdrawn, not invalidated), leaving out suspect ones an organiser has not cleared. Every one of them is
counted. A signer is *listed* (name and country in signatures.csv) only when the target takes names
(``DataSharing.NAMES``), the signer agreed that their name and country be passed on, and their name has not
been erased after the retention period. A counts-only target gets a CSV with its header alone.

The zip holds, in this order: ``signatures.csv`` (UTF-8 with BOM, RFC 4180, CRLF, any cell a spreadsheet
could read as a formula prefixed with an apostrophe), ``summary.pdf``, ``manifest.json`` (petition,
target, cut-off, counts per country, and the SHA-256 and size of each other file) and ``manifest.sig``
(signing.py). Entries carry the cut-off as their time and rows come in id order, so the same petition,
target and cut-off give the same bytes, and the same packet id, every time (as long as no signature changed
meanwhile).

Memory stays flat: rows come in batches from one streaming query and go through a hashing stream into
the zip.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from advocacy.crypto import keyring, seal_context
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES, localized
from advocacy.packets import pdf
from advocacy.packets.signing import PacketKeys
from advocacy.petitions.markdown import plain_paragraphs
from advocacy.petitions.models import DataSharing, Petition, Target
from advocacy.signatures.models import Signature, SignatureState

FORMAT = "advocacy-packet/1"
CSV_NAME, PDF_NAME, MANIFEST_NAME, SIGNATURE_NAME = "signatures.csv", "summary.pdf", "manifest.json", "manifest.sig"
FILES = (CSV_NAME, PDF_NAME, MANIFEST_NAME, SIGNATURE_NAME)
CSV_HEADER = ("name", "country", "confirmed_on")
BATCH = 5000
# a leading character that makes Excel, LibreOffice or Google Sheets read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "%")
_NAMESPACE = uuid.UUID("6f6d2c1e-6b1a-4c52-9d1f-0a7c3e5b2d11")


def neutralise(cell: str) -> str:
    """A cell no spreadsheet runs as a formula (OWASP's advice: an apostrophe in front)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def cutoff_text(cutoff: datetime) -> str:
    return cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def packet_id(petition: Petition, target: Target, cutoff: datetime) -> str:
    """The same petition, target and cut-off always name the same packet (on the same site)."""
    return str(uuid.uuid5(_NAMESPACE, f"{current_app.config['BASE_URL']}|{petition.id}|{target.id}|"
                                      f"{cutoff_text(cutoff)}"))


def target_locale(target: Target) -> str:
    """The first of the target's languages that the platform speaks; English otherwise."""
    return next((code for code in target.languages or () if code in SUPPORTED_LOCALES), "en")


@dataclass
class Built:
    """What a written packet holds: its id, counts and manifest (the zip itself went to the stream)."""

    packet_id: str
    total: int = 0
    listed: int = 0
    by_country: Counter[str] = field(default_factory=Counter)
    listed_by_country: Counter[str] = field(default_factory=Counter)
    manifest: dict[str, Any] = field(default_factory=dict)


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through it to ``inner``."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.digest.update(chunk)
        self.size += len(chunk)
        self.inner.write(chunk)
        return len(chunk)


def _entry(name: str, cutoff: datetime) -> zipfile.ZipInfo:
    moment = cutoff.astimezone(UTC)
    info = zipfile.ZipInfo(name, date_time=(max(moment.year, 1980), moment.month, moment.day, moment.hour,
                                            moment.minute, moment.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def counted(petition_id: int, cutoff: datetime) -> Any:
    """The condition on signatures that count for a packet of this petition with this cut-off."""
    return (
        (Signature.petition_id == petition_id)
        & (Signature.state == SignatureState.CONFIRMED)
        & Signature.suspect.is_(False)
        & (Signature.confirmed_at <= cutoff)
    )


def write(petition: Petition, target: Target, cutoff: datetime, out: IO[bytes], keys: PacketKeys, *,
          batch: int = BATCH, on_batch: Callable[[int], Any] | None = None) -> Built:
    """Write the packet's zip to ``out``; ``on_batch`` is called with the number of rows done after each batch
    (the worker extends its lease there)."""
    built = Built(packet_id=packet_id(petition, target, cutoff))
    share_names = target.data_sharing == DataSharing.NAMES
    ring = keyring()
    files: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        with archive.open(_entry(CSV_NAME, cutoff), "w", force_zip64=True) as raw:
            hashing = _Hashing(raw)
            text = io.TextIOWrapper(io.BufferedWriter(hashing, buffer_size=1 << 16), encoding="utf-8",
                                    newline="")
            text.write("\ufeff")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(CSV_HEADER)
            # one query, read in batches from a server-side cursor (PostgreSQL) or a stepping one (SQLite):
            # a single pass in id order, whatever the petition's size (a keyset query per batch made the
            # planner sort the whole petition again for every batch)
            rows = db.session.execute(
                select(Signature.country, Signature.confirmed_at, Signature.consent_share_name,
                       Signature._full_name, Signature.seal_id)
                .where(counted(petition.id, cutoff))
                .order_by(Signature.id)
                .execution_options(yield_per=batch)
            )
            for partition in rows.partitions():
                for country, confirmed_at, consent, sealed_name, seal_id in partition:
                    built.total += 1
                    built.by_country[country] += 1
                    if not (share_names and consent and sealed_name is not None):
                        continue
                    name = ring.decrypt(sealed_name, context=seal_context("signatures", "full_name", seal_id))
                    confirmed_on = confirmed_at.astimezone(UTC).date().isoformat() if confirmed_at else ""
                    writer.writerow((neutralise(name), country, confirmed_on))
                    built.listed += 1
                    built.listed_by_country[country] += 1
                if on_batch is not None:
                    on_batch(built.total)
            text.flush()
            text.detach().flush()  # the BufferedWriter, then the hashing stream: the zip entry stays open
        files[CSV_NAME] = {"sha256": hashing.digest.hexdigest(), "bytes": hashing.size}

        locale = target_locale(target)
        summary = pdf.render(pdf.Summary(
            locale=locale, target_name=target.display_name(locale), petition_title=petition.display_title(locale),
            petition_paragraphs=[*plain_paragraphs(localized(petition.summary, locale)),
                                 *plain_paragraphs(localized(petition.body, locale))],
            campaign_name=petition.campaign.display_name(locale), cutoff=cutoff, total=built.total,
            listed=built.listed, by_country=dict(built.by_country), names_shared=share_names,
            packet_id=built.packet_id,
        ))
        archive.writestr(_entry(PDF_NAME, cutoff), summary)
        files[PDF_NAME] = {"sha256": hashlib.sha256(summary).hexdigest(), "bytes": len(summary)}

        built.manifest = {
            "format": FORMAT,
            "packet_id": built.packet_id,
            "site": current_app.config["BASE_URL"],
            "petition": {"slug": petition.slug, "title": petition.display_title(locale)},
            "target": {"slug": target.slug, "name": target.display_name(locale),
                       "data_sharing": target.data_sharing.value},
            "cutoff": cutoff_text(cutoff),
            "counts": {
                "signatures": built.total,
                "listed": built.listed,
                "by_country": {code: {"signatures": built.by_country[code], "listed": built.listed_by_country[code]}
                               for code in sorted(built.by_country)},
            },
            "files": files,
        }
        manifest = manifest_bytes(built.manifest)
        archive.writestr(_entry(MANIFEST_NAME, cutoff), manifest)
        archive.writestr(_entry(SIGNATURE_NAME, cutoff), keys.sign(manifest))
    return built


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
