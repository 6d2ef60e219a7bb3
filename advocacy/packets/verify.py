"""Checking a packet: every file there and unchanged, the counts adding up, the manifest signed by a trusted key.

Used by ``advocacy packets verify`` and the public ``/verify`` page. It needs no database: only the zip and
the public keys to trust. Each problem found is named (which file, which count), so a liaison can say what
is wrong with a packet, not just that something is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask_babel import lazy_gettext as _l

from advocacy.packets.build import CSV_HEADER, CSV_NAME, FILES, FORMAT, MANIFEST_NAME, SIGNATURE_NAME
from advocacy.packets.signing import SignatureMismatch, check, fingerprint

MAX_MANIFEST = 1 << 20


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    fingerprint: str | None = None  # of the key that signed it, when the signature holds

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as stream:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _csv_counts(archive: zipfile.ZipFile) -> tuple[Counter[str], str | None]:
    """Listed rows per country in signatures.csv, or a problem if it is not the CSV a packet holds."""
    counts: Counter[str] = Counter()
    with archive.open(CSV_NAME) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            reader = csv.reader(text)
            if tuple(next(reader, ())) != CSV_HEADER:
                return counts, str(_l("signatures.csv does not start with the columns of a packet."))
            for row in reader:
                if len(row) != len(CSV_HEADER):
                    return counts, str(_l("signatures.csv has a row with %(n)d cells instead of %(expected)d.",
                                          n=len(row), expected=len(CSV_HEADER)))
                counts[row[1]] += 1
        except (UnicodeDecodeError, csv.Error):
            return counts, str(_l("signatures.csv is not readable UTF-8 CSV."))
    return counts, None


def verify(source: IO[bytes] | str, keys: list[Ed25519PublicKey] | tuple[Ed25519PublicKey, ...]) -> Report:
    """Check the packet in ``source`` (a path or a seekable binary stream) against the trusted ``keys``."""
    report = Report()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        report.problems.append(str(_l("This is not a zip file, or it is cut short.")))
        return report
    with archive:
        names = archive.namelist()
        missing = [name for name in FILES if name not in names]
        extra = sorted(set(names) - set(FILES))
        for name in missing:
            report.problems.append(str(_l("%(file)s is missing.", file=name)))
        for name in extra:
            report.problems.append(str(_l("%(file)s is not part of a packet: something was added.", file=name)))
        if MANIFEST_NAME in missing:
            return report
        info = archive.getinfo(MANIFEST_NAME)
        if info.file_size > MAX_MANIFEST:
            report.problems.append(str(_l("manifest.json is far too large to be a packet’s manifest.")))
            return report
        try:
            manifest_raw = archive.read(MANIFEST_NAME)
        except (zipfile.BadZipFile, OSError):
            report.problems.append(str(_l("%(file)s is damaged: it does not unpack.", file=MANIFEST_NAME)))
            return report

        if SIGNATURE_NAME not in missing:
            try:
                signer = check(manifest_raw, archive.read(SIGNATURE_NAME), keys)
                report.fingerprint = fingerprint(signer)
            except SignatureMismatch as exc:
                report.problems.append(_signature_problem(exc))
            except (zipfile.BadZipFile, OSError):
                report.problems.append(str(_l("%(file)s is damaged: it does not unpack.", file=SIGNATURE_NAME)))

        try:
            manifest = json.loads(manifest_raw)
            files = manifest["files"]
            counts = manifest["counts"]
            if manifest.get("format") != FORMAT or not isinstance(files, dict) or not isinstance(counts, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            report.problems.append(str(_l("manifest.json is not a packet manifest.")))
            return report
        report.manifest = manifest

        for name in (CSV_NAME, *[n for n in FILES if n not in (CSV_NAME, MANIFEST_NAME, SIGNATURE_NAME)]):
            if name in missing:
                continue
            expected = files.get(name) or {}
            try:
                digest, size = _sha256(archive, name)
            except (zipfile.BadZipFile, OSError):
                report.problems.append(str(_l("%(file)s is damaged: it does not unpack.", file=name)))
                continue
            if digest != expected.get("sha256") or size != expected.get("bytes"):
                report.problems.append(str(_l(
                    "%(file)s was changed: its SHA-256 does not match the one in manifest.json.", file=name)))

        report.problems.extend(_count_problems(archive, counts, missing))
    return report


def _count_problems(archive: zipfile.ZipFile, counts: dict[str, Any], missing: list[str]) -> list[str]:
    problems: list[str] = []
    by_country = counts.get("by_country") or {}
    try:
        counted = sum(int(entry["signatures"]) for entry in by_country.values())
        listed = {code: int(entry["listed"]) for code, entry in by_country.items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return [str(_l("manifest.json has counts that are not numbers."))]
    if counted != counts.get("signatures"):
        problems.append(str(_l("manifest.json’s countries add up to %(sum)d signatures, but its total says "
                               "%(total)s.", sum=counted, total=counts.get("signatures"))))
    if sum(listed.values()) != counts.get("listed"):
        problems.append(str(_l("manifest.json’s listed signers by country do not add up to its listed total.")))
    if CSV_NAME in missing:
        return problems
    rows, problem = _csv_counts(archive)
    if problem:
        problems.append(problem)
        return problems
    for code in sorted(set(rows) | {code for code, n in listed.items() if n}):
        if rows[code] != listed.get(code, 0):
            problems.append(str(_l("signatures.csv lists %(rows)d signers from %(country)s, manifest.json %(listed)d.",
                                   rows=rows[code], country=code, listed=listed.get(code, 0))))
    return problems


def _signature_problem(exc: SignatureMismatch) -> str:
    if exc.reason == "unknown_key":
        return str(_l("manifest.sig was made with a key that is not this platform’s packet key."))
    if exc.reason == "mismatch":
        return str(_l("The signature does not match manifest.json: the manifest or its signature was changed."))
    return str(_l("manifest.sig is not a valid signature."))
