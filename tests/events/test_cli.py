"""``advocacy events``: add, change, cancel and import from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from advocacy.events import services
from advocacy.events.models import EventStatus
from advocacy.extensions import db
from tests.events.test_services import BAD_FILES, GOOD, count_events, ics


@pytest.fixture
def run(app, ctx):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["events", *args])
        db.session.expire_all()
        return result

    return invoke


ADD = ["add", "--title", "Free them all", "--title", "uk=Звільніть усіх", "--start", "2030-03-29 13:00",
       "--end", "2030-03-29 14:30", "--venue", "Palais des Nations", "--room", "Room XXII", "--city", "Geneva",
       "--country", "CH", "--session", "HRC 61", "--language", "en", "--interpretation", "uk",
       "--organiser", "Center for Civil Liberties"]


def test_add_change_and_cancel(run):
    added = run(*ADD)
    assert added.exit_code == 0, added.output
    uid = added.output.split()[1]
    event = services.get_event(uid)
    assert event.title == {"en": "Free them all", "uk": "Звільніть усіх"}
    assert (event.hrc_session, event.room, event.sequence) == (61, "Room XXII", 0)
    assert event.local_start.hour == 13
    assert event.starts_at.hour == 12

    moved = [*ADD[:6], "2030-04-01 13:00", "--end", "2030-04-01 14:30", *ADD[9:]]
    changed = run(*moved, "--uid", uid)
    assert changed.exit_code == 0, changed.output
    assert f"changed {uid} (sequence 1, version 3)" in changed.output  # created, published, changed
    event = services.get_event(uid)
    assert event.starts_at.hour == 11  # summer time
    assert count_events() == 1

    cancelled = run("cancel", uid)
    assert cancelled.exit_code == 0
    assert services.get_event(uid).status == EventStatus.CANCELLED
    assert services.get_event(uid).sequence == 2
    assert "cancelled" in run("list").output


def test_add_refuses_bad_input(run):
    result = run(*[("Europe/Atlantis" if a == "Europe/Zurich" else a) for a in ADD], "--timezone", "Europe/Atlantis")
    assert result.exit_code == 1
    assert "not a time zone" in result.output
    result = run(*ADD[:6], "2030-03-31 02:30", "--end", "2030-03-31 04:00", *ADD[9:])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert run("cancel", "nobody@test").exit_code == 1
    assert count_events() == 0


def test_import_twice_updates_rather_than_duplicates(run, tmp_path: Path):
    path = tmp_path / "hrc61.ics"
    path.write_bytes(ics(GOOD))
    first = run("import", str(path))
    assert first.exit_code == 0, first.output
    assert "1 new" in first.output
    second = run("import", str(path))
    assert "0 new, 0 updated, 1 unchanged" in second.output
    assert count_events() == 1


@pytest.mark.parametrize("name", ["broken syntax", "missing DTSTART", "unknown time zone", "one good, one bad"])
def test_import_of_a_bad_file_fails_clearly_and_changes_nothing(run, tmp_path: Path, name):
    path = tmp_path / "bad.ics"
    path.write_bytes(BAD_FILES[name])
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "error:" in result.output
    assert count_events() == 0


def test_import_of_a_50_mb_file_is_refused(run, tmp_path: Path):
    path = tmp_path / "huge.ics"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "larger than 5 MB" in result.output
    assert count_events() == 0


def test_add_as_a_draft_then_publish(run):
    added = run(*ADD, "--draft")
    assert added.exit_code == 0, added.output
    assert added.output.startswith("added as a draft ")
    uid = added.output.split()[4]
    assert services.get_event(uid).is_draft
    assert services.all_events() == []
    assert "scheduled (draft)" in run("list").output

    for _ in range(2):  # publishing twice is harmless
        published = run("publish", uid)
        assert published.exit_code == 0, published.output
        assert f"published {uid}" in published.output
    event = services.get_event(uid)
    assert not event.is_draft
    assert [e.uid for e in services.all_events()] == [uid]
    assert "(draft)" not in run("list").output
    assert run("publish", "nobody@test").exit_code == 1


def test_add_publishes_by_default(run):
    added = run(*ADD)
    assert added.exit_code == 0, added.output
    assert not services.get_event(added.output.split()[1]).is_draft


def test_a_change_at_a_stale_version_is_refused(run):
    uid = run(*ADD).output.split()[1]
    read = services.get_event(uid).version
    first = run(*ADD[:2], "Renamed", *ADD[3:], "--uid", uid, "--version", str(read))
    assert first.exit_code == 0, first.output
    stale = run(*ADD[:2], "Renamed again", *ADD[3:], "--uid", uid, "--version", str(read))
    assert stale.exit_code == 1
    assert f"version {read + 1}" in stale.output
    event = services.get_event(uid)
    assert (event.title["en"], event.version) == ("Renamed", read + 1)
    assert run(*ADD, "--version", "1").exit_code == 2  # --version only goes with --uid


def test_an_import_that_fails_part_way_changes_nothing(run, tmp_path: Path, monkeypatch):
    path = tmp_path / "hrc61.ics"
    path.write_bytes(ics(GOOD))
    assert run("import", str(path)).exit_code == 0
    changed = GOOD.replace("Palais des Nations", "Maison de la Paix")
    path.write_bytes(ics(changed, GOOD.replace("hrc61-civilians", "second")))
    calls = {"n": 0}
    flush = services._flush

    def failing_flush() -> None:
        flush()  # the first event's change reaches the database, then the import breaks
        calls["n"] += 1
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_flush", failing_flush)
    result = run("import", str(path))
    assert result.exit_code != 0
    assert calls["n"] == 1
    monkeypatch.undo()
    assert count_events() == 1
    kept = services.get_event("hrc61-civilians@partner.example")
    assert (kept.venue, kept.sequence) == ("Palais des Nations", 0)
