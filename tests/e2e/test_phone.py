"""On a phone: from the home page to a confirmed signature without scrolling through the petition to find the form.

The "Sign this petition" link is in the first screen; it brings the form into view; the signer fills it in,
confirms from the emailed link, and the petition's total shows the new signature.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_browser import CONFIRM_LINK, server_output_on_failure, wait_for_link

if TYPE_CHECKING:  # a type only: never import a conftest module at run time
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

SLUG = "free-ukrainian-civilians"
PHONE = {"width": 390, "height": 844}
PAGE_TIMEOUT_MS = 15_000
TALLY_WAIT_SECONDS = 10.0


def total(page: Page) -> int:
    digits = re.sub(r"\D", "", page.locator("#signature-total strong").inner_text())
    assert digits, f"no number in the total: {page.locator('#signature-total').inner_text()!r}"
    return int(digits)


def in_first_screen(page: Page, selector: str) -> bool:
    """Whether the element is wholly inside the viewport of a page that has not been scrolled."""
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return bool(page.evaluate("window.scrollY") == 0 and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"])


def test_sign_on_a_phone_from_the_home_page(live_server: LiveServer, module_browser: Browser) -> None:
    base = live_server.base_url
    address = f"phone-{uuid.uuid4().hex[:12]}@example.org"
    context = module_browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    try:
        with server_output_on_failure(live_server):
            page.goto(base + "/")
            page.locator(f"ul.petition-list a[href='/p/{SLUG}']").tap()
            page.wait_for_url(f"{base}/p/{SLUG}")
            before = total(page)
            # the page fits the phone: nothing to scroll sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

            # the form is far below the petition's text; the link to it is in the first screen
            sign_link = "main a[href='#sign']"
            expect(page.locator(sign_link)).to_be_visible()
            assert in_first_screen(page, sign_link), "the Sign link is not in the first screen"
            expect(page.locator("#full_name")).not_to_be_in_viewport()
            page.locator(sign_link).tap()
            expect(page.locator("#sign-heading")).to_be_in_viewport()
            expect(page.locator("#full_name")).to_be_in_viewport()

            page.locator("#full_name").fill("Mobile Signer")
            page.locator("#email").fill(address)
            page.locator("select#country").select_option(value="MD")
            page.locator("#consent_share_name").tap()
            with page.expect_navigation():
                page.locator("#sign button[type=submit]").tap()
            assert page.url == f"{base}/p/{SLUG}/signed", f"signing did not go through: {page.url}"

            link = wait_for_link(live_server.mail_dir, address, CONFIRM_LINK)
            page.goto(link)
            button = page.locator("main form[method=post] button[type=submit]")
            expect(button).to_be_visible()
            with page.expect_navigation():
                button.tap()
            expect(page.locator("main button[type=submit]")).to_have_count(0)

            # pages cache the counts for a few seconds
            deadline = time.monotonic() + TALLY_WAIT_SECONDS
            while True:
                page.goto(f"{base}/p/{SLUG}")
                after = total(page)
                if after != before or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert after == before + 1, f"the total went from {before} to {after}, expected {before + 1}"
    finally:
        context.close()
