"""Sign a demo petition in Ukrainian in a real browser, confirm it from the emailed link, see the tally move."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:  # a type only: never import a conftest module at run time
    from tests.e2e.conftest import LiveServer

SLUG = "free-ukrainian-civilians"
COUNTRY = "MD"
MAIL_WAIT_SECONDS = 30.0
TALLY_WAIT_SECONDS = 10.0
CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/confirm/[^\s\"'<>]+")

pytestmark = pytest.mark.browser


@contextmanager
def server_output_on_failure(server: LiveServer) -> Iterator[None]:
    """Print the server's log when the block fails, so pytest shows it under "Captured stdout call"."""
    try:
        yield
    except BaseException:
        print(f"\n----- advocacy serve output ({server.log_path}) -----\n{server.output()}")
        raise


def country_count(page: Page, country: str) -> int:
    """The confirmed signatures the petition page shows for one country; no row means none yet.

    The number is locale-formatted (uk groups thousands with a narrow no-break space), so keep digits only.
    """
    cell = page.locator(f"table#by-country tr[data-country={country}] td.num")
    if cell.count() == 0:
        return 0
    digits = re.sub(r"\D", "", cell.inner_text())
    assert digits, f"no number in the {country} row: {cell.inner_text()!r}"
    return int(digits)


def read_mail(path: Path) -> EmailMessage | None:
    """Parse one .eml file; None while it is still being written (or unreadable)."""
    try:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    except (OSError, ValueError):
        return None
    return message if isinstance(message, EmailMessage) else None


def plain_text(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def wait_for_link(mail_dir: Path, to: str, pattern: re.Pattern[str]) -> str:
    """Poll the embedded mode's mail folder for a message to ``to`` whose text has a link like ``pattern``."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = []
        for path in sorted(mail_dir.glob("*.eml")):
            message = read_mail(path)
            if message is None:
                continue
            seen.append(f"{path.name}: To={message['To']!s} Subject={message['Subject']!s}")
            if str(message["To"] or "").strip().lower() != to.lower():
                continue
            match = pattern.search(plain_text(message) or "")
            if match:
                return match.group(0)
        time.sleep(0.25)
    pytest.fail(f"no email with a link like {pattern.pattern} to {to} in {mail_dir} within "
                f"{MAIL_WAIT_SECONDS:.0f} s; mail seen: {seen or 'none'}")


def test_sign_in_ukrainian_and_confirm_from_email(live_server: LiveServer, browser_page: Page) -> None:
    page = browser_page
    base = live_server.base_url
    address = f"e2e-{uuid.uuid4().hex[:12]}@example.org"

    with server_output_on_failure(live_server):
        # Home page, then Ukrainian through the switcher in the header.
        page.goto(base + "/")
        expect(page.locator("a.brand")).to_be_visible()
        page.locator("header nav.languages").get_by_role("link", name="Українська", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "uk")

        # A demo petition, reached by its link on the (now Ukrainian) home page.
        page.locator(f"ul.petition-list a[href='/p/{SLUG}']").click()
        page.wait_for_url(f"{base}/p/{SLUG}")
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        # the table shows the top countries; its plain "show all" link shows every one
        with page.expect_navigation():
            page.locator("a[href$='?countries=all#by-country']").click()
        before = country_count(page, COUNTRY)

        # Sign.
        page.locator("#full_name").fill("Олена Тестова")
        page.locator("#email").fill(address)
        page.locator("select#country").select_option(value=COUNTRY)
        page.locator("#consent_share_name").check()
        with page.expect_navigation():
            page.locator("#email").press("Enter")
        assert page.url == f"{base}/p/{SLUG}/signed", f"signing did not go through: {page.url}"
        expect(page.locator("html")).to_have_attribute("lang", "uk")

        # The confirmation email, written as an .eml file by the embedded mode.
        link = wait_for_link(live_server.mail_dir, address, CONFIRM_LINK)
        assert link.startswith(base + "/confirm/"), f"{link} does not start with {base}/confirm/"

        # GET shows a button; only its POST confirms.
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        button = page.locator("main form[method=post] button[type=submit]")
        expect(button).to_have_count(1)
        expect(button).to_be_visible()
        with page.expect_navigation():
            button.click()
        expect(page.locator("main button[type=submit]")).to_have_count(0)

        # The tally for the country went up by exactly one (pages cache counts for a few seconds).
        deadline = time.monotonic() + TALLY_WAIT_SECONDS
        after = before
        while True:
            page.goto(f"{base}/p/{SLUG}?countries=all")
            after = country_count(page, COUNTRY)
            if after != before or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert after == before + 1, f"{COUNTRY} tally went from {before} to {after}, expected {before + 1}"
