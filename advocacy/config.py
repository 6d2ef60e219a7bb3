"""Settings read from ADVOCACY_* environment variables; the defaults are the embedded mode."""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECRETS_FILE = "secrets.json"

log = logging.getLogger(__name__)


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
    # the name pages and emails show for the whole site (ADVOCACY_SITE_NAME); None: the first published
    # campaign's name in the reader's language
    site_name: str | None = None
    # the From of emails (ADVOCACY_MAIL_FROM); unset: the site name at petitions@<the base URL's host>
    mail_from: str | None = None
    # per-address limits on signing; off only for load tests from one address
    rate_limits: bool = True
    # an outbox row whose message was lost, or whose worker died, is sent again after this many seconds
    outbox_resend_after: float = 300.0
    # how often the relay looks for such rows
    relay_every: float = 15.0
    # the embedded worker's messages wait for the web process to answer no request, at most this many seconds
    # after they were sent (the signers of a burst first, their mail after it); 0: at once
    embedded_give_way: float = 30.0
    # petition pages, API answers and tallies are shared by all anonymous readers of a language this long
    cache_seconds: float = 3.0
    # old link-signing keys still accepted while a new ADVOCACY_SECRET_KEY takes over
    secret_key_fallbacks: tuple[str, ...] = ()
    # per-country counts below this are shown to the public as "fewer than N"; 0 or 1 shows every count
    min_public_count: int = 10
    # False when ADVOCACY_BASE_URL was not given: `advocacy serve` then links to where it listens
    base_url_configured: bool = True
    # reverse proxies in front of the app whose X-Forwarded-For/-Proto hops are believed; 0: headers ignored
    trusted_proxies: int = 0
    # host names served besides the base URL's (an onion address, a second domain); others get 400
    extra_hosts: tuple[str, ...] = ()
    # updates to signers: at most this many emails a minute, shared by all updates being sent
    updates_per_minute: int = 600
    # the 32-byte Ed25519 private key (seed) that signs packet manifests; older ones, kept after a
    # rotation, only have their public keys published so packets signed with them still verify
    packet_signing_key: bytes = b""
    packet_signing_key_fallbacks: tuple[bytes, ...] = ()
    # webhooks may be plain http to a loopback address (ADVOCACY_WEBHOOK_ALLOW_LOOPBACK): for tests only
    webhook_allow_loopback: bool = False

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
        _restrict(path, 0o600)
        return _with_packet_key(path, dict(json.loads(path.read_text())))
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    kid = "k1"
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "data_keys": f"{kid}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
        "blind_index_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "packet_signing_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    # O_EXCL: two processes starting at once must not overwrite each other's keys
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _with_packet_key(path, dict(json.loads(path.read_text())))
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def _with_packet_key(path: Path, values: dict[str, str]) -> dict[str, str]:
    """An instance folder made before packets existed gets its packet signing key added, once.

    Under an exclusive lock, read again: of two processes starting at once, the second finds the first's key.
    """
    if "packet_signing_key" in values:
        return values
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        values = dict(json.loads(path.read_text()))
        if "packet_signing_key" not in values:
            values["packet_signing_key"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            partial = path.with_name(f"{path.name}.part")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(values, fh)
            os.replace(partial, path)
    return values


def _restrict(path: Path, mode: int) -> None:
    """Only the account running the app may read it: the instance folder holds keys, mail and the database."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:
        log.warning("cannot restrict %s to mode %o: it belongs to another user", path, mode)


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


class ConfigError(ValueError):
    """The settings cannot work; the message says what to set."""


SECRET_NAMES = ("ADVOCACY_SECRET_KEY", "ADVOCACY_DATA_KEYS", "ADVOCACY_BLIND_INDEX_KEY", "ADVOCACY_PACKET_SIGNING_KEY")
SECRET_KEY_MIN = 32
BLIND_INDEX_KEY_MIN = 32


def _secret(env: dict[str, str], name: str) -> str | None:
    """A secret from ``NAME``, or from the file ``NAME_FILE`` names (Docker and systemd secrets)."""
    value = env.get(name)
    if value:
        return value.strip()
    path = env.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text().strip() or None
    except OSError as exc:
        raise ConfigError(f"{name}_FILE names {path!r}, which cannot be read ({exc.strerror})") from None


def _decode_key(value: str, name: str, minimum: int) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise ConfigError(f"{name} must be base64") from None
    if len(key) < minimum:
        raise ConfigError(f"{name} must hold at least {minimum} bytes (it has {len(key)})")
    return key


def _ed25519_seed(value: str, name: str) -> bytes:
    """A base64 Ed25519 private key: its 32-byte seed (`advocacy keys generate` prints one)."""
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise ConfigError(f"{name} must be base64") from None
    if len(key) != 32:
        raise ConfigError(f"{name} must hold exactly 32 bytes, an Ed25519 private key (it has {len(key)})")
    return key


def _number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} cannot be negative")
    return value


def _parse_trusted_proxies(value: str) -> int:
    try:
        count = int(value.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigError(f"ADVOCACY_TRUSTED_PROXIES must be a number of proxies (0, 1, 2…), not {value!r}")
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
            raise ConfigError(f"ADVOCACY_EXTRA_HOSTS: {part!r} is not a host name")
        hosts.append(host)
    return tuple(hosts)


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment. The embedded SQLite default generates its own secrets into the instance
    folder; any other database refuses to start without them, so that every host shares the same keys."""
    env = dict(os.environ if environ is None else environ)
    instance_path = Path(overrides.pop("instance_path", None) or env.get("ADVOCACY_INSTANCE_PATH") or "instance")
    instance_path = instance_path.resolve()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _restrict(instance_path, 0o700)
    database_url = env.get("ADVOCACY_DATABASE_URL") or f"sqlite:///{instance_path / 'advocacy.sqlite3'}"
    given = {name: _secret(env, name) for name in SECRET_NAMES}
    if database_url.startswith("sqlite"):
        generated = _load_or_create_secrets(instance_path) if not all(given.values()) else {}
        secret_key = given["ADVOCACY_SECRET_KEY"] or generated["secret_key"]
        data_keys_spec = given["ADVOCACY_DATA_KEYS"] or generated["data_keys"]
        blind_key = given["ADVOCACY_BLIND_INDEX_KEY"] or generated["blind_index_key"]
        packet_key = given["ADVOCACY_PACKET_SIGNING_KEY"] or generated["packet_signing_key"]
    else:
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} must be set (or {', '.join(name + '_FILE' for name in missing)}) outside the "
                "embedded SQLite mode, the same on every host; `advocacy keys generate` prints a fresh set"
            )
        if not (env.get("ADVOCACY_SMTP_URL") or "").strip():
            # .eml files hold signers' addresses in clear: only the embedded mode writes them, on its own disk
            raise ConfigError("ADVOCACY_SMTP_URL must be set outside the embedded SQLite mode (mail is written "
                              "to .eml files only in the embedded mode)")
        secret_key = str(given["ADVOCACY_SECRET_KEY"])
        data_keys_spec = str(given["ADVOCACY_DATA_KEYS"])
        blind_key = str(given["ADVOCACY_BLIND_INDEX_KEY"])
        packet_key = str(given["ADVOCACY_PACKET_SIGNING_KEY"])
    if len(secret_key) < SECRET_KEY_MIN:
        raise ConfigError(f"ADVOCACY_SECRET_KEY must be at least {SECRET_KEY_MIN} characters long")
    fallbacks = tuple(key.strip() for key in (_secret(env, "ADVOCACY_SECRET_KEY_FALLBACKS") or "").split(",")
                      if key.strip())
    try:
        data_keys = parse_data_keys(data_keys_spec)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    values: dict[str, Any] = {
        "instance_path": instance_path,
        "database_url": database_url,
        "broker_url": env.get("ADVOCACY_BROKER_URL") or None,
        "smtp_url": env.get("ADVOCACY_SMTP_URL") or None,
        "base_url": (env.get("ADVOCACY_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "base_url_configured": bool(env.get("ADVOCACY_BASE_URL")),
        "secret_key": secret_key,
        "secret_key_fallbacks": fallbacks,
        "data_keys": data_keys,
        "blind_index_key": _decode_key(blind_key, "ADVOCACY_BLIND_INDEX_KEY", BLIND_INDEX_KEY_MIN),
        "packet_signing_key": _ed25519_seed(packet_key, "ADVOCACY_PACKET_SIGNING_KEY"),
        "packet_signing_key_fallbacks": tuple(
            _ed25519_seed(key.strip(), "ADVOCACY_PACKET_SIGNING_KEY_FALLBACKS")
            for key in (_secret(env, "ADVOCACY_PACKET_SIGNING_KEY_FALLBACKS") or "").split(",") if key.strip()),
        "outbox_resend_after": _number(env, "ADVOCACY_OUTBOX_RESEND_AFTER", 300.0),
        "relay_every": _number(env, "ADVOCACY_RELAY_EVERY", 15.0),
        "embedded_give_way": _number(env, "ADVOCACY_EMBEDDED_GIVE_WAY", 30.0),
        "cache_seconds": _number(env, "ADVOCACY_CACHE_SECONDS", 3.0),
    }
    if env.get("ADVOCACY_RATE_LIMITS", "").strip().lower() in {"0", "off", "false", "no"}:
        values["rate_limits"] = False
    if env.get("ADVOCACY_MIN_PUBLIC_COUNT", "").strip():
        values["min_public_count"] = max(int(_number(env, "ADVOCACY_MIN_PUBLIC_COUNT", 10)), 0)
    if env.get("ADVOCACY_SITE_NAME", "").strip():
        values["site_name"] = env["ADVOCACY_SITE_NAME"].strip()
    if env.get("ADVOCACY_TRUSTED_PROXIES", "").strip():
        values["trusted_proxies"] = _parse_trusted_proxies(env["ADVOCACY_TRUSTED_PROXIES"])
    if env.get("ADVOCACY_EXTRA_HOSTS"):
        values["extra_hosts"] = parse_hosts(env["ADVOCACY_EXTRA_HOSTS"])
    if env.get("ADVOCACY_WEBHOOK_ALLOW_LOOPBACK", "").strip().lower() in {"1", "on", "true", "yes"}:
        values["webhook_allow_loopback"] = True
    if env.get("ADVOCACY_UPDATES_PER_MINUTE", "").strip():
        values["updates_per_minute"] = max(int(_number(env, "ADVOCACY_UPDATES_PER_MINUTE", 600)), 1)
    if env.get("ADVOCACY_MAIL_FROM"):
        values["mail_from"] = env["ADVOCACY_MAIL_FROM"]
    values.update(overrides)
    return Settings(**values)
