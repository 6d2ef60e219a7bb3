"""The instance folder (keys, mail, the database) and the SQLite files are the app account's alone."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from advocacy import create_app
from advocacy.config import SECRETS_FILE, load_settings
from advocacy.extensions import db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files readable by everybody, as many servers have."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_instance_folder_and_its_secrets_are_private(tmp_path, open_umask):
    instance = tmp_path / "deep" / "instance"
    load_settings({}, instance_path=instance)
    assert mode(instance) == 0o700
    assert mode(instance / SECRETS_FILE) == 0o600


def test_an_existing_instance_folder_is_tightened(tmp_path, open_umask):
    instance = tmp_path / "instance"
    load_settings({}, instance_path=instance)
    instance.chmod(0o755)
    (instance / SECRETS_FILE).chmod(0o644)
    settings = load_settings({}, instance_path=instance)
    assert mode(instance) == 0o700
    assert mode(instance / SECRETS_FILE) == 0o600
    assert settings.secret_key  # the same keys are still read


def test_the_sqlite_database_and_its_wal_files_are_private(tmp_path, open_umask, rebind_worker_app):
    instance = tmp_path / "instance"
    settings = load_settings({}, instance_path=instance)
    settings = dataclasses.replace(settings, broker_url=os.environ.get("ADVOCACY_BROKER_URL") or None)
    database = instance / "advocacy.sqlite3"
    app = create_app({"TESTING": True}, settings=settings)
    assert mode(database) == 0o600  # there before SQLite first opens it
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (body TEXT)"))
            conn.execute(text("INSERT INTO notes VALUES ('private')"))
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("SELECT body FROM notes")).scalar() == "private"
            for suffix in ("-wal", "-shm"):
                side = database.with_name(database.name + suffix)
                assert side.exists()
                assert mode(side) == 0o600
        db.engine.dispose()


def test_an_existing_database_file_is_tightened(tmp_path, open_umask, rebind_worker_app):
    instance = tmp_path / "instance"
    settings = load_settings({}, instance_path=instance)
    settings = dataclasses.replace(settings, broker_url=os.environ.get("ADVOCACY_BROKER_URL") or None)
    database = instance / "advocacy.sqlite3"
    database.touch(mode=0o644)
    database.with_name(database.name + "-wal").touch(mode=0o644)
    create_app({"TESTING": True}, settings=settings)
    assert mode(database) == 0o600
    assert mode(database.with_name(database.name + "-wal")) == 0o600
