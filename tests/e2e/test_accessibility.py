"""Every public page, in English, Ukrainian and Russian, has no axe-core violations in headless Chromium.

axe-core comes from npm at test time (the ``axe_script`` fixture), never from the repository. The pages are the
real ones of ``advocacy serve --demo``, reached as a reader would: the petition page also with its form's
errors shown and with every country, the pages an emailed link opens (with real links: the signature is made
through the form and its confirmation link read from the mail), the error pages, events, /verify and the login.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from advocacy.crypto import make_token
from tests.e2e.test_browser import CONFIRM_LINK, server_output_on_failure, wait_for_link

if TYPE_CHECKING:  # a type only: never import a conftest module at run time
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

SLUG = "free-ukrainian-civilians"
PAGE_TIMEOUT_MS = 15_000
LOCALES = ["en", "uk", "ru"]
DEMO_SIGNATURE_ID = 1  # the demo loads signatures: the first one has an unsubscribe page

AXE_RESULTS = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\\s+/g, " ")),
    more: Math.max(v.nodes.length - 5, 0),
  }));
}"""


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A reader's browser. ``bypass_csp``: the pages forbid scripts they do not serve themselves, axe included."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}, bypass_csp=True,
                                  **options)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    return context


def token(server: LiveServer, purpose: str, value: object, *, issued: datetime | None = None) -> str:
    """A link token the server accepts, signed with the key in its instance folder by the app's own code."""
    secrets = json.loads((server.instance / "secrets.json").read_text(encoding="utf-8"))
    signer = Flask(__name__)
    signer.config.update(SECRET_KEY=secrets["secret_key"], SECRET_KEY_FALLBACKS=[])
    with signer.app_context():
        if issued is None:
            return make_token(purpose, value)
        with time_machine.travel(issued, tick=False):
            return make_token(purpose, value)


@dataclass
class Audit:
    """The axe violations of each page visited, reported all together at the end."""

    page: Page
    script: Path
    locale: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """Run axe on the page as it is now; also check that it is in the language chosen."""
        page = self.page
        page.wait_for_load_state("load")
        self.checked.append(name)
        lang = page.locator("html").get_attribute("lang")
        if lang != self.locale:
            self.problems.append(f"{name} ({page.url}): <html lang={lang!r}>, expected {self.locale!r}")
        page.add_script_tag(path=str(self.script))
        for violation in page.evaluate(AXE_RESULTS):
            nodes = "\n      ".join(violation["nodes"])
            more = f"\n      … and {violation['more']} more" if violation["more"] else ""
            self.problems.append(f"{name} ({page.url}): {violation['id']} [{violation['impact']}] "
                                 f"{violation['help']}\n      {nodes}{more}")

    def visit(self, name: str, url: str, status: int | None = None) -> None:
        response = self.page.goto(url)
        assert response is not None, f"no answer for {url}"
        if status is not None:
            assert response.status == status, f"{name}: {url} answered {response.status}, expected {status}"
        self.check(name)

    def submit(self, name: str, button: str = "main form[method=post] button[type=submit]") -> None:
        """Press the page's submit button and check the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(button).first.click()
        self.check(name)


@pytest.mark.parametrize("locale", LOCALES)
def test_public_pages_have_no_axe_violations(locale: str, module_live_server: LiveServer, module_browser: Browser,
                                             axe_script: Path) -> None:
    server = module_live_server
    base = server.base_url
    context = new_context(module_browser)
    page = context.new_page()
    audit = Audit(page=page, script=axe_script, locale=locale)
    address = f"a11y-{locale}-{uuid.uuid4().hex[:10]}@example.org"
    petition = f"{base}/p/{SLUG}"
    try:
        with server_output_on_failure(server):
            page.goto(f"{base}/language/{locale}?next=/")  # the reader's choice, kept in a cookie
            audit.check("home")
            others = page.locator("ul.petition-list a[href^='/p/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))")
            for href in others:
                if href != f"/p/{SLUG}":
                    audit.visit(f"petition {href}", base + href, 200)
            audit.visit("petition", petition, 200)
            audit.visit("petition, every country", f"{petition}?countries=all#by-country", 200)

            # the form with its errors: a summary first, a message at each field, what was typed kept
            page.goto(petition)
            page.locator("#email").fill("not an address")
            audit.submit("petition, form errors", "form[action$='/p/" + SLUG + "'] button[type=submit]")
            expect(page.locator("main .error-summary")).to_have_count(1)
            expect(page.locator("#email")).to_have_value("not an address")
            summary_links = page.locator(".error-summary a")
            for href in summary_links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
                expect(page.locator(href)).to_have_count(1)

            # sign for real: the pages an emailed link opens get real links
            page.locator("#full_name").fill("Accessible Tester")
            page.locator("#email").fill(address)
            page.locator("select#country").select_option(value="UA")
            audit.submit("signed", "form[action$='/p/" + SLUG + "'] button[type=submit]")
            assert page.url == f"{petition}/signed", f"signing did not go through: {page.url}"

            link = wait_for_link(server.mail_dir, address, CONFIRM_LINK)
            audit.visit("confirm", link, 200)
            audit.submit("confirmed")
            withdraw = page.locator("main a[href*='/withdraw/']").first.get_attribute("href")
            assert withdraw, "no withdraw link on the confirmed page"
            audit.visit("withdraw", base + withdraw if withdraw.startswith("/") else withdraw, 200)
            audit.submit("withdrawn")

            audit.visit("link does not work", f"{base}/confirm/not-a-real-token", 404)
            month_ago = datetime.now(UTC) - timedelta(days=30)
            expired = token(server, "confirm-signature", DEMO_SIGNATURE_ID, issued=month_ago)
            audit.visit("link expired", f"{base}/confirm/{expired}", 410)
            unsubscribe = token(server, "unsubscribe-news", DEMO_SIGNATURE_ID)
            audit.visit("unsubscribe", f"{base}/updates/unsubscribe/{unsubscribe}", 200)

            audit.visit("new link", f"{petition}/new-link", 200)
            audit.submit("new link, form errors")
            page.locator("#email").fill(address)
            audit.submit("new link sent")

            audit.visit("events", f"{base}/events/", 200)
            audit.visit("past events", f"{base}/events/?when=past", 200)
            audit.visit("events of the month", f"{base}/events/calendar", 200)
            event = page.locator("#month-grid a[href*='/events/']").first
            if event.count() == 0:
                page.goto(f"{base}/events/")
                event = page.locator("#event-list a[href*='/events/']").first
            href = event.get_attribute("href")
            assert href, "no event to open"
            assert re.search(r"/events/\d+", href), f"not an event page: {href!r}"
            audit.visit("event", base + href if href.startswith("/") else href, 200)

            audit.visit("embeddable counter", f"{petition}/embed", 200)
            audit.visit("campaign news", f"{base}/c/people-first/news", 200)
            audit.visit("verify a packet", f"{base}/verify", 200)
            audit.submit("verify a packet, no file")
            audit.visit("log in", f"{base}/login", 200)
            audit.submit("log in, form errors")
            audit.visit("not found", f"{base}/no-such-page", 404)
            audit.visit("method not allowed", f"{base}/logout", 405)
    finally:
        context.close()
    assert len(audit.checked) >= 25, f"only {audit.checked} were checked"
    assert not audit.problems, (f"{len(audit.problems)} accessibility problem(s) on {locale} pages:\n  "
                                + "\n  ".join(audit.problems))


FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
    && style.outlineColor !== "rgba(0, 0, 0, 0)" && style.outlineColor !== "transparent";
  const shadow = style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || "").slice(0, 40),
          shown: outline || shadow, visible: box.width > 0 && box.height > 0,
          inView: box.bottom > 0 && box.top < window.innerHeight};
}"""
MAX_TABS = 60


def tab_to(page: Page, selector: str) -> list[dict[str, Any]]:
    """Press Tab until the element is focused; every element passed on the way must show where focus is."""
    seen: list[dict[str, Any]] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_SHOWN)
        if focused is not None:
            seen.append(focused)
            assert focused["visible"], f"focus went to an invisible element: {focused}"
            assert focused["inView"], f"focus went to an element out of view: {focused}"
            assert focused["shown"], f"no visible focus indicator on {focused}"
        if page.locator(selector).evaluate("el => el === document.activeElement"):
            return seen
    pytest.fail(f"{selector} not reached with {MAX_TABS} presses of Tab; focus went through {seen}")


def test_sign_with_the_keyboard_alone_with_focus_always_visible(module_live_server: LiveServer,
                                                               module_browser: Browser) -> None:
    server = module_live_server
    base = server.base_url
    address = f"keyboard-{uuid.uuid4().hex[:10]}@example.org"
    context = new_context(module_browser)
    page = context.new_page()
    try:
        with server_output_on_failure(server):
            page.goto(f"{base}/p/{SLUG}")
            # the first Tab shows the skip link; following it puts the next Tab in the main content
            page.keyboard.press("Tab")
            skip = page.locator("a.skip-link")
            expect(skip).to_be_focused()
            expect(skip).to_be_in_viewport()
            page.keyboard.press("Enter")
            tab_to(page, "#full_name")
            page.keyboard.type("Keyboard Signer")
            tab_to(page, "#email")
            page.keyboard.type(address)
            tab_to(page, "#country")
            page.keyboard.type("Ukr")  # a select's type-ahead
            expect(page.locator("#country")).to_have_value("UA")
            tab_to(page, "#consent_share_name")
            page.keyboard.press("Space")
            expect(page.locator("#consent_share_name")).to_be_checked()
            tab_to(page, "#sign button[type=submit]")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url == f"{base}/p/{SLUG}/signed", f"signing did not go through: {page.url}"

            # the country table's "show all" link is a plain link, reached and followed with the keyboard
            page.goto(f"{base}/p/{SLUG}")
            tab_to(page, "a[href$='?countries=all#by-country']")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith("?countries=all#by-country")
            assert page.locator("#by-country tbody tr").count() > 10
    finally:
        context.close()


def test_on_a_wide_screen_the_form_stays_beside_the_text(module_live_server: LiveServer,
                                                         module_browser: Browser) -> None:
    context = new_context(module_browser)
    page = context.new_page()
    try:
        page.goto(f"{module_live_server.base_url}/p/{SLUG}")
        # beside the text, no link needed to reach it
        expect(page.locator("main a[href='#sign']")).to_be_hidden()
        text, form = page.locator(".petition-text").bounding_box(), page.locator("#sign").bounding_box()
        assert text
        assert form
        assert form["x"] > text["x"] + text["width"], f"the form {form} is not beside the text {text}"
        expect(page.locator("#full_name")).to_be_in_viewport()
        # and still in view down at the country table
        page.locator("#by-country").scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 0
        expect(page.locator("#sign-heading")).to_be_in_viewport()
        expect(page.locator("#full_name")).to_be_in_viewport()
    finally:
        context.close()
