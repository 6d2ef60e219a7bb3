"""Signature packets: what is listed and counted, the zip's files, and every kind of tampering caught."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from sqlalchemy import select

from advocacy.accounts.roles import SYSTEM, Forbidden, Principal
from advocacy.audit.models import AuditEvent
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.packets import build, services
from advocacy.packets.signing import PacketKeys, fingerprint, jwks, packet_keys
from advocacy.packets.verify import verify
from advocacy.petitions import services as petitions
from advocacy.petitions.models import DataSharing
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import email_index

NOW = utcnow().replace(microsecond=0)


def add(petition: Any, name: str | None, *, country: str = "UA", state: SignatureState = SignatureState.CONFIRMED,
        consent: bool = True, suspect: bool = False, confirmed_at: Any = None) -> Signature:
    address = f"{(name or 'erased').lower().replace(' ', '.')}.{len(name or '')}@example.org"
    signature = Signature(
        petition_id=petition.id, state=state, full_name=name, email=address,
        email_index=email_index(petition.id, address), country=country, locale="en",
        consent_share_name=consent, suspect=suspect, created_at=NOW - timedelta(days=2),
        confirmed_at=(confirmed_at or NOW - timedelta(days=1)) if state != SignatureState.PENDING else None,
    )
    db.session.add(signature)
    db.session.flush()
    return signature


@pytest.fixture
def petition(make_petition: Any) -> Any:
    petition = make_petition()
    add(petition, "Olena Kovalenko")                                    # listed
    add(petition, "Anna Schmidt", country="DE")                         # listed
    add(petition, "Ivan Petrenko", consent=False)                       # counted, not listed
    add(petition, "=HYPERLINK(\"http://evil\")", country="PL")          # listed, neutralised
    add(petition, "Pending Person", state=SignatureState.PENDING)        # not counted
    add(petition, "Withdrawn Person", state=SignatureState.WITHDRAWN)    # not counted
    add(petition, "Invalid Person", state=SignatureState.INVALIDATED)    # not counted
    add(petition, "Suspect Person", suspect=True)                       # not counted until cleared
    add(petition, "Late Person", confirmed_at=NOW + timedelta(hours=1))  # after the cut-off
    erased = add(petition, "Erased Person", country="DE")               # counted; name gone after retention
    erased.full_name = None
    db.session.commit()
    return petition


def write(petition: Any, target_slug: str = "bundestag", cutoff: Any = NOW) -> tuple[bytes, build.Built]:
    target = petitions.find_target(target_slug)
    out = io.BytesIO()
    built = build.write(petition, target, cutoff, out, packet_keys())
    return out.getvalue(), built


def rows(packet: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        text = archive.read("signatures.csv").decode("utf-8")
    assert text.startswith("\ufeff")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_consent_and_state_decide_who_is_listed_and_who_is_counted(petition):
    packet, built = write(petition)
    listed = rows(packet)
    assert listed[0] == ["name", "country", "confirmed_on"]
    assert sorted(row[0] for row in listed[1:]) == ["'=HYPERLINK(\"http://evil\")", "Anna Schmidt", "Olena Kovalenko"]
    assert (built.total, built.listed) == (5, 3)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(packet)).read("manifest.json"))
    assert manifest["counts"] == {"signatures": 5, "listed": 3, "by_country": {
        "DE": {"signatures": 2, "listed": 1}, "PL": {"signatures": 1, "listed": 1},
        "UA": {"signatures": 2, "listed": 1}}}
    assert manifest["cutoff"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert manifest["target"]["slug"] == "bundestag"


def test_a_counts_only_target_gets_no_names_at_all(petition):
    target = petitions.find_target("bundestag")
    target.data_sharing = DataSharing.COUNTS_ONLY
    db.session.commit()
    packet, built = write(petition)
    assert rows(packet) == [["name", "country", "confirmed_on"]]
    assert (built.total, built.listed) == (5, 0)
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        names = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Olena" not in names


def test_the_same_petition_target_and_cutoff_give_the_same_bytes_and_id(petition):
    first, built = write(petition)
    again, rebuilt = write(petition)
    assert first == again
    assert built.packet_id == rebuilt.packet_id
    _, other = write(petition, cutoff=NOW + timedelta(hours=2))
    assert other.packet_id != built.packet_id
    assert other.total == built.total + 1  # the late confirmation is in


def test_the_summary_pdf_reads_in_the_targets_language_with_cyrillic(make_petition):
    target = petitions.create_target("verkhovna-rada", name={"en": "Verkhovna Rada", "uk": "Верховна Рада України"},
                                     country="UA", languages=["uk"], actor=SYSTEM)
    petitions.publish_target(target.id, actor=SYSTEM)
    petition = make_petition(target_ids=[target.id])
    add(petition, "Олена Коваленко")
    db.session.commit()
    packet, _ = write(petition, "verkhovna-rada")
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        reader = PdfReader(io.BytesIO(archive.read("summary.pdf")))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Верховна Рада України" in text
    assert "Звільніть усіх" in text  # the petition's Ukrainian title
    assert "Перший абзац." in text
    assert "Україна" in text  # countries named in Ukrainian
    assert "Free them all" not in text


def rewrite(packet: bytes, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> bytes:
    """The same zip with some files replaced (or dropped, for None) and others added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(packet)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    new.writestr(info, change[info.filename])
            else:
                new.writestr(info, old.read(info.filename))
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return out.getvalue()


def read(packet: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(packet)).read(name)


def problems(packet: bytes) -> list[str]:
    report = verify(io.BytesIO(packet), packet_keys().public_keys)
    return report.problems


def test_an_untouched_packet_checks_out(petition):
    packet, built = write(petition)
    report = verify(io.BytesIO(packet), packet_keys().public_keys)
    assert report.ok, report.problems
    assert report.fingerprint == fingerprint(packet_keys().current.public_key())
    assert report.manifest["packet_id"] == built.packet_id


def test_each_kind_of_tampering_is_caught_and_named(petition):
    packet, _ = write(petition)
    csv_bytes = read(packet, "signatures.csv")
    one_byte = csv_bytes.replace(b"Olena", b"Olenb")
    assert problems(rewrite(packet, {"signatures.csv": one_byte})) == [
        "signatures.csv was changed: its SHA-256 does not match the one in manifest.json."]

    pdf_bytes = bytearray(read(packet, "summary.pdf"))
    pdf_bytes[len(pdf_bytes) // 2] ^= 1
    assert problems(rewrite(packet, {"summary.pdf": bytes(pdf_bytes)})) == [
        "summary.pdf was changed: its SHA-256 does not match the one in manifest.json."]

    manifest = json.loads(read(packet, "manifest.json"))
    manifest["counts"]["signatures"] += 1
    found = problems(rewrite(packet, {"manifest.json": json.dumps(manifest).encode()}))
    assert "The signature does not match manifest.json: the manifest or its signature was changed." in found
    assert any("add up to 5 signatures, but its total says 6" in problem for problem in found)

    signature = json.loads(read(packet, "manifest.sig"))
    raw = bytearray(base64.urlsafe_b64decode(signature["signature"] + "=="))
    raw[0] ^= 1
    signature["signature"] = base64.urlsafe_b64encode(bytes(raw)).decode()
    assert problems(rewrite(packet, {"manifest.sig": json.dumps(signature).encode()})) == [
        "The signature does not match manifest.json: the manifest or its signature was changed."]


def test_a_row_removed_with_a_re_signed_manifest_by_another_key_is_refused(petition):
    """A forger who rewrites the CSV and the manifest's hashes must sign with their own key: it is not trusted."""
    packet, _ = write(petition)
    shorter = b"\r\n".join(line for line in read(packet, "signatures.csv").split(b"\r\n") if b"Olena" not in line)
    manifest = json.loads(read(packet, "manifest.json"))
    manifest["files"]["signatures.csv"] = {"sha256": hashlib.sha256(shorter).hexdigest(), "bytes": len(shorter)}
    manifest_raw = build.manifest_bytes(manifest)
    forged = PacketKeys(Ed25519PrivateKey.generate()).sign(manifest_raw)
    found = problems(rewrite(packet, {"signatures.csv": shorter, "manifest.json": manifest_raw,
                                      "manifest.sig": forged}))
    assert "manifest.sig was made with a key that is not this platform’s packet key." in found
    assert "signatures.csv lists 0 signers from UA, manifest.json 1." in found


def test_missing_added_and_broken_files_are_named(petition):
    packet, _ = write(petition)
    assert problems(rewrite(packet, {"summary.pdf": None})) == ["summary.pdf is missing."]
    assert problems(rewrite(packet, {}, add={"extra.txt": b"hello"})) == [
        "extra.txt is not part of a packet: something was added."]
    assert problems(packet[: len(packet) // 2]) == ["This is not a zip file, or it is cut short."]


def test_packets_signed_with_an_earlier_key_still_verify_after_a_rotation(app, petition):
    old = Ed25519PrivateKey.generate()
    target = petitions.find_target("bundestag")
    out = io.BytesIO()
    build.write(petition, target, NOW, out, PacketKeys(old))
    seed = old.private_bytes_raw()
    rotated = PacketKeys.from_seeds(b"n" * 32, (seed,))
    assert verify(io.BytesIO(out.getvalue()), rotated.public_keys).ok
    assert not verify(io.BytesIO(out.getvalue()), PacketKeys.from_seeds(b"n" * 32).public_keys).ok
    assert [key["kid"] for key in rotated.jwks()["keys"]] == [key["kid"] for key in jwks(rotated.public_keys)["keys"]]
    assert len(rotated.jwks()["keys"]) == 2


# --- the service, the command line and the pages ---------------------------------------------------------

def test_export_is_for_the_campaigns_organisers_and_is_audit_logged(petition, tmp_path):
    stranger = Principal(user_id=5, campaign_ids=frozenset({petition.campaign_id + 100}))
    with pytest.raises(Forbidden):
        services.export(petition.slug, "bundestag", NOW, tmp_path / "p.zip", actor=stranger)
    organiser = Principal(user_id=None, campaign_ids=frozenset({petition.campaign_id}))
    built = services.export(petition.slug, "bundestag", NOW, tmp_path / "p.zip", actor=organiser)
    db.session.commit()
    assert (tmp_path / "p.zip").stat().st_mode & 0o077 == 0
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "packet.export")).one()
    assert entry.detail["packet_id"] == built.packet_id
    assert entry.detail["signatures"] == 5
    assert "Olena" not in json.dumps(entry.detail)


@pytest.mark.parametrize(("petition_slug", "target_slug", "cutoff", "message"), [
    ("no-such-petition", "bundestag", NOW, "There is no petition no-such-petition."),
    (None, "un-hrc", NOW, "is not addressed to un-hrc"),
    (None, "bundestag", NOW + timedelta(days=1), "The cut-off cannot be in the future."),
])
def test_export_refuses_what_cannot_be_a_packet_and_writes_nothing(petition, tmp_path, petition_slug, target_slug,
                                                                    cutoff, message):
    with pytest.raises(services.PacketError, match=message):
        services.export(petition_slug or petition.slug, target_slug, cutoff, tmp_path / "p.zip", actor=SYSTEM)
    assert list(tmp_path.iterdir()) == []


def test_the_public_key_is_published_as_a_jwk_set(client, ctx):
    response = client.get("/.well-known/packet-signing-key")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/jwk-set+json")
    keys = response.get_json()["keys"]
    current = packet_keys().current.public_key()
    assert keys[0]["kty"] == "OKP"
    assert keys[0]["crv"] == "Ed25519"
    assert base64.urlsafe_b64decode(keys[0]["x"] + "=") == current.public_bytes_raw()


def upload(client: Any, data: bytes, name: str = "packet.zip") -> Any:
    return client.post("/verify", data={"packet": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_the_verify_page_checks_an_upload_and_names_what_was_changed(client, petition):
    page = client.get("/verify")
    assert page.status_code == 200
    assert fingerprint(packet_keys().current.public_key()) in page.get_data(as_text=True)

    packet, built = write(petition)
    good = upload(client, packet)
    assert good.status_code == 200
    text = good.get_data(as_text=True)
    assert "The packet checks out" in text
    assert built.packet_id in text

    csv_bytes = read(packet, "signatures.csv").replace(b"Anna", b"Anne")
    bad = upload(client, rewrite(packet, {"signatures.csv": csv_bytes}))
    assert bad.status_code == 422
    assert "signatures.csv was changed" in bad.get_data(as_text=True)

    assert client.post("/verify", data={}, content_type="multipart/form-data").status_code == 400


def test_the_verify_page_speaks_the_readers_language(client, petition):
    packet, _ = write(petition)
    response = client.post("/verify?lang=uk", data={"packet": (io.BytesIO(packet[:100]), "p.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'lang="uk"' in response.get_data(as_text=True)


def run_cli(app: Any, *args: str) -> Any:
    runner = app.test_cli_runner()
    return runner.invoke(args=["packets", *args])


def test_the_command_line_builds_and_verifies_and_says_which_check_failed(app, petition, tmp_path):
    out = tmp_path / "packet.zip"
    result = run_cli(app, "build", petition.slug, "bundestag", "--out", str(out),
                     "--cutoff", NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert result.exit_code == 0, result.output
    assert "5 signatures, 3 listed by name" in result.output
    assert run_cli(app, "verify", str(out)).exit_code == 0

    tampered = tmp_path / "tampered.zip"
    pdf_bytes = bytearray(read(out.read_bytes(), "summary.pdf"))
    pdf_bytes[100] ^= 1
    tampered.write_bytes(rewrite(out.read_bytes(), {"summary.pdf": bytes(pdf_bytes)}))
    result = run_cli(app, "verify", str(tampered))
    assert result.exit_code == 1
    assert "summary.pdf was changed" in result.output

    other_keys = tmp_path / "other.json"
    other_keys.write_text(json.dumps(PacketKeys(Ed25519PrivateKey.generate()).jwks()))
    result = run_cli(app, "verify", str(out), "--key", str(other_keys))
    assert result.exit_code == 1
    assert "not this platform’s packet key" in result.output

    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(packet_keys().jwks()))
    assert run_cli(app, "verify", str(out), "--key", str(mine)).exit_code == 0

    result = run_cli(app, "build", petition.slug, "un-hrc", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 1
    assert "is not addressed to un-hrc" in result.output


def test_verify_runs_as_a_command_from_a_clean_shell(tmp_path, petition):
    """The installed command, in its own process, against the embedded default of a fresh instance."""
    packet, _ = write(petition)
    path = tmp_path / "p.zip"
    path.write_bytes(packet)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(packet_keys().jwks()))
    env = {"PATH": "/usr/bin:/bin", "ADVOCACY_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-m", "advocacy", "packets", "verify", str(path), "--key", str(keys)],
                          env=env, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "OK: packet" in done.stdout


def test_the_build_reports_after_every_batch_so_the_worker_can_keep_its_lease(petition):
    calls: list[int] = []
    target = petitions.find_target("bundestag")
    out = io.BytesIO()
    built = build.write(petition, target, NOW, out, packet_keys(), batch=2, on_batch=calls.append)
    assert calls == [2, 4, 5]
    assert built.total == 5
    assert out.getvalue() == write(petition)[0]  # the batch size changes nothing in the bytes
