"""Settings read from ADVOCACY_* environment variables; the defaults are the embedded mode."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    broker_url: str | None
    smtp_url: str | None
    base_url: str
    secret_key: str
    # key id -> 32-byte AES key; the first entry encrypts, all of them decrypt
    data_keys: dict[str, bytes]
    blind_index_key: bytes
    mail_from: str = "People First petitions <petitions@localhost>"
    # per-address limits on signing; off only for load tests from one address
    rate_limits: bool = True
    # an outbox row whose message was lost, or whose worker died, is sent again after this many seconds
    outbox_resend_after: float = 300.0
    # reverse proxies in front of the app whose X-Forwarded-For/-Proto hops are believed; 0: headers ignored
    trusted_proxies: int = 0
    # host names served besides the base URL's (an onion address, a second domain); others get 400
    extra_hosts: tuple[str, ...] = ()

    @property
    def mail_dir(self) -> Path:
        return self.instance_path / "mail"

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url


def _load_or_create_secrets(instance_path: Path) -> dict[str, str]:
    """Generate the secret key and data keys on first run and keep them in the instance folder."""
    path = instance_path / SECRETS_FILE
    if path.exists():
        return dict(json.loads(path.read_text()))
    instance_path.mkdir(parents=True, exist_ok=True)
    kid = "k1"
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "data_keys": f"{kid}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
        "blind_index_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    # O_EXCL: two processes starting at once must not overwrite each other's keys
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return dict(json.loads(path.read_text()))
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def parse_data_keys(spec: str) -> dict[str, bytes]:
    """Parse ``kid:base64key,kid2:base64key`` into an ordered mapping; the first key encrypts."""
    keys: dict[str, bytes] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        if not sep or not kid:
            raise ValueError("ADVOCACY_DATA_KEYS must look like 'kid:base64key[,kid:base64key…]'")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(key) != 32:
            raise ValueError(f"data key {kid!r} must be 32 bytes")
        keys[kid] = key
    if not keys:
        raise ValueError("ADVOCACY_DATA_KEYS holds no key")
    return keys


def _parse_trusted_proxies(value: str) -> int:
    try:
        count = int(value.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"ADVOCACY_TRUSTED_PROXIES must be a number of proxies (0, 1, 2…), not {value!r}")
    return count


def parse_hosts(spec: str) -> tuple[str, ...]:
    """``a.example.org, http://xyz.onion`` -> ("a.example.org", "xyz.onion"): host names, no scheme or port."""
    hosts: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        host = urlsplit(part if "://" in part else f"//{part}").hostname
        if not host:
            raise ValueError(f"ADVOCACY_EXTRA_HOSTS: {part!r} is not a host name")
        hosts.append(host)
    return tuple(hosts)


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ if environ is None else environ)
    instance_path = Path(overrides.pop("instance_path", None) or env.get("ADVOCACY_INSTANCE_PATH") or "instance")
    instance_path = instance_path.resolve()
    instance_path.mkdir(parents=True, exist_ok=True)
    generated = _load_or_create_secrets(instance_path)

    database_url = env.get("ADVOCACY_DATABASE_URL") or f"sqlite:///{instance_path / 'advocacy.sqlite3'}"
    data_keys_spec = env.get("ADVOCACY_DATA_KEYS") or generated["data_keys"]
    blind_key = env.get("ADVOCACY_BLIND_INDEX_KEY") or generated["blind_index_key"]
    values: dict[str, Any] = {
        "instance_path": instance_path,
        "database_url": database_url,
        "broker_url": env.get("ADVOCACY_BROKER_URL") or None,
        "smtp_url": env.get("ADVOCACY_SMTP_URL") or None,
        "base_url": (env.get("ADVOCACY_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "secret_key": env.get("ADVOCACY_SECRET_KEY") or generated["secret_key"],
        "data_keys": parse_data_keys(data_keys_spec),
        "blind_index_key": base64.urlsafe_b64decode(blind_key + "=" * (-len(blind_key) % 4)),
    }
    if env.get("ADVOCACY_RATE_LIMITS", "").strip().lower() in {"0", "off", "false", "no"}:
        values["rate_limits"] = False
    if env.get("ADVOCACY_OUTBOX_RESEND_AFTER"):
        values["outbox_resend_after"] = float(env["ADVOCACY_OUTBOX_RESEND_AFTER"])
    if env.get("ADVOCACY_TRUSTED_PROXIES", "").strip():
        values["trusted_proxies"] = _parse_trusted_proxies(env["ADVOCACY_TRUSTED_PROXIES"])
    if env.get("ADVOCACY_EXTRA_HOSTS"):
        values["extra_hosts"] = parse_hosts(env["ADVOCACY_EXTRA_HOSTS"])
    if env.get("ADVOCACY_MAIL_FROM"):
        values["mail_from"] = env["ADVOCACY_MAIL_FROM"]
    values.update(overrides)
    return Settings(**values)
