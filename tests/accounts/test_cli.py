"""``advocacy users``: create-admin, list, disable and invite; errors are one line and exit code 1."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.accounts.conftest import PASSWORD, Account, text


def test_create_admin_prints_a_one_time_set_up_link_and_no_password(cli: Any, client: FlaskClient) -> None:
    result = cli("create-admin", "boss@example.org", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    link = next(line for line in result.output.splitlines() if line.startswith("https://petitions.test/invitation/"))
    page = client.get(link.split("petitions.test", 1)[1])
    assert page.status_code == 200
    assert "command line" in text(page)  # asks for the password given there
    listed = cli("list")
    assert "boss@example.org\tinvited\tadmin" in listed.output


def test_create_admin_from_a_prompt_with_confirmation(cli: Any) -> None:
    result = cli("create-admin", "boss@example.org", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "https://petitions.test/invitation/" in result.output


def test_errors_are_one_line_and_exit_1(cli: Any, admin: Account) -> None:
    short = cli("create-admin", "other@example.org", "--password-stdin", input="short\n")
    assert short.exit_code == 1
    assert short.output.strip() == "error: The password needs at least 12 characters."
    again = cli("create-admin", admin.email, "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 1
    assert "exists" in again.output
    assert cli("disable", "nobody@example.org").exit_code == 1
    assert cli("invite", "x@example.org", "--role", "organiser", "--campaign", "nope").output.strip() == \
        "error: no campaign 'nope'"
    assert cli("invite", "x@example.org", "--role", "liaison").exit_code == 1


def test_invite_list_and_disable(cli: Any, admin: Account, campaign: Any, drain: Any, mailbox: Any) -> None:
    invited = cli("invite", "helper@example.org", "--role", "organiser", "--campaign", campaign[1])
    assert invited.exit_code == 0, invited.output
    assert "/invitation/" not in invited.output  # nothing secret: the link goes by email
    drain()
    assert any(m.to == "helper@example.org" and "/invitation/" in m.text for m in mailbox())
    assert cli("invite", "boss2@example.org", "--role", "admin").exit_code == 0
    listed = cli("list").output
    assert "helper@example.org\tinvited\torganiser:people-first" in listed
    assert f"{admin.email}\tactive\tadmin" in listed
    assert cli("disable", "helper@example.org").exit_code == 0
    assert "helper@example.org\tdisabled" in cli("list").output
