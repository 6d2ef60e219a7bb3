"""The whole organiser path in a real browser, through the real pages, as real people would walk it:

1. ``advocacy users create-admin`` at the command line prints a one-time set-up link;
2. the admin sets up the second factor there, logs out, and logs in again with password and TOTP;
3. the admin creates and publishes a campaign and invites an organiser, who accepts through the emailed
   link in another browser (another person);
4. the organiser creates a target and a petition in en and uk (Markdown, checked in the preview) and
   submits it; nobody approves their own submission;
5. the admin approves it; it shows on the public home page and at /p/<slug>;
6. an anonymous reader signs it, confirms through the emailed link, and sees the count move.

Screenshots of every console page visited go to /tmp/shots/NN-name.png (1280 wide, a few at 390) for a
reviewer to look at; they are not part of the repository.
"""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from advocacy import data_dirs
from tests.e2e.test_browser import server_output_on_failure, wait_for_link

if TYPE_CHECKING:  # a type only: never import a conftest module at run time
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser


def labelled(text: str) -> re.Pattern[str]:
    """A field's label exactly, with the "(optional)" an optional field's label ends with."""
    return re.compile(rf"^{re.escape(text)}( \(optional\))?$")

SHOTS = Path("/tmp/shots")  # noqa: S108 - for a reviewer to look at; never committed
WIDE: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
PAGE_TIMEOUT_MS = 15_000
CLI_SECONDS = 60.0
PUBLIC_WAIT_SECONDS = 15.0  # pages shared by anonymous readers are cached for a few seconds
TOTP_WAIT_SECONDS = 65.0  # at most two 30-second steps

ADMIN_PASSWORD = "admin passphrase for the e2e path"
ORGANISER_PASSWORD = "organiser passphrase, long enough"
INVITATION_LINK = re.compile(r"https?://[^\s\"'<>]+/invitation/[^\s\"'<>]+")
CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/confirm/[^\s\"'<>]+")
# console strings checked in Ukrainian: the page must show what the uk catalogue says for them
CONSOLE_NAV = ("Overview", "Campaigns", "Targets", "People", "Your account")


# --- helpers -----------------------------------------------------------------------------------------------


class Shots:
    """Numbered full-page screenshots: NN-name.png at 1280 px, NN-name-phone.png at 390 px."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.taken: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("[0-9][0-9]-*.png"):
            old.unlink()

    def __call__(self, page: Page, name: str, phone: bool = False) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path.name)
        if phone:
            self.count += 1
            path = self.folder / f"{self.count:02d}-{name}-phone.png"
            page.set_viewport_size(PHONE)
            try:
                page.screenshot(path=str(path), full_page=True)
            finally:
                page.set_viewport_size(WIDE)
            self.taken.append(path.name)


class Authenticator:
    """The person's authenticator app: RFC 6238 codes from the secret the enrolment page shows.

    The server accepts the previous, current and next 30-second step and refuses a step at or before the
    last one used, so each code is for the step after the last one used (but never older than now); if
    that step is still more than one step ahead, wait until the clock gets there.
    """

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def _now_step(self) -> int:
        return int(self.totp.timecode(time.time()))

    def code(self) -> str:
        deadline = time.monotonic() + TOTP_WAIT_SECONDS
        wanted = self._now_step() if self.last_step is None else max(self.last_step + 1, self._now_step())
        while wanted > self._now_step() + 1:  # outside the server's window: wait for the clock
            if time.monotonic() > deadline:
                pytest.fail(f"TOTP step {wanted} not within reach after {TOTP_WAIT_SECONDS:.0f} s")
            time.sleep(0.5)
        self.last_step = wanted
        return str(self.totp.at(wanted * self.totp.interval))


def new_context(browser: Browser) -> BrowserContext:
    """Another person's browser: no cookies shared with the other contexts."""
    context = browser.new_context(locale="en-GB", viewport=WIDE)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    return context


def run_cli(server: LiveServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``advocacy ARGS`` against the live server's instance, from the same folder as the server's command."""
    executable = Path(sys.executable).parent / "advocacy"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ADVOCACY_DATABASE_URL", "ADVOCACY_BROKER_URL", "ADVOCACY_SMTP_URL")}
    env.update(ADVOCACY_INSTANCE_PATH=str(server.instance), ADVOCACY_BASE_URL=server.base_url,
               PYTHONUNBUFFERED="1")
    result = subprocess.run([str(executable), *args], input=stdin, capture_output=True, text=True, env=env,
                            cwd=server.instance.parent, timeout=CLI_SECONDS, check=False)
    assert result.returncode == 0, (f"advocacy {' '.join(args)} exited with {result.returncode}:\n"
                                    f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def wait_until(what: str, condition: Callable[[], bool], seconds: float = PUBLIC_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.5)


def ukrainian() -> gettext.NullTranslations:
    """The uk catalogue the server uses: the console must show its translation of each checked string."""
    return gettext.translation("messages", str(data_dirs()["translations"]), languages=["uk"])


def assert_console_closed(page: Page, base: str) -> None:
    """Without both factors every console page sends the browser to the login page."""
    for path in ("/console/", "/console/users", "/console/campaigns", "/account"):
        page.goto(base + path)
        assert page.url.startswith(f"{base}/login"), f"{path} before both factors ended at {page.url}"
        expect(page.locator("nav.console-nav")).to_have_count(0)


def console_nav(page: Page) -> Locator:
    return page.locator("nav.console-nav")


def open_from_nav(page: Page, name: str) -> None:
    with page.expect_navigation():
        console_nav(page).get_by_role("link", name=name, exact=True).click()


def flash(page: Page) -> Locator:
    return page.locator(".flashes")


def main(page: Page) -> Locator:
    return page.locator("main")


def expect_status(page: Page, value: str, label: str) -> None:
    """The petition's status on its console page: the class says which, the text says it to people."""
    shown = main(page).locator("strong.status")
    expect(shown).to_have_class(re.compile(rf"\bstatus-{value}\b"))
    expect(shown).to_have_text(label)


def total(page: Page) -> int:
    digits = re.sub(r"\D", "", page.locator("#signature-total strong").inner_text())
    assert digits, f"no number in the total: {page.locator('#signature-total').inner_text()!r}"
    return int(digits)


def check_ukrainian_console(page: Page, shots: Shots, name: str, untranslated: set[str], texts: tuple[str, ...],
                            heading: str | None = None) -> None:
    """Switch to Ukrainian with the header's switcher, check the console speaks it, switch back to English.

    Every checked string must show as the uk catalogue has it (the English text while it is untranslated:
    those are printed at the end of the test), and the page's own data in uk (``heading``).
    """
    uk = ukrainian()
    page.locator("header nav.languages").get_by_role("link", name="Українська", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("a.skip-link")).to_have_text(uk.gettext("Skip to content"))
    if heading is not None:
        expect(page.locator("main h1")).to_have_text(heading)
    for text in texts:
        translated = uk.gettext(text)
        if translated == text:
            untranslated.add(text)
        expect(main(page)).to_contain_text(translated)
    nav = console_nav(page)
    for text in CONSOLE_NAV:
        translated = uk.gettext(text)
        if translated == text:
            untranslated.add(text)
        expect(nav.get_by_role("link", name=translated, exact=True)).to_be_visible()
    logout = uk.gettext("Log out")
    if logout == "Log out":
        untranslated.add("Log out")
    expect(nav.get_by_role("button", name=logout, exact=True)).to_be_visible()
    shots(page, name, phone=True)
    page.locator("header nav.languages").get_by_role("link", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@contextmanager
def report_untranslated(untranslated: set[str]) -> Iterator[None]:
    try:
        yield
    finally:
        if untranslated:
            print(f"\nconsole strings still in English in the uk catalogue: {sorted(untranslated)}")


# --- the path ----------------------------------------------------------------------------------------------


def test_organiser_path_from_create_admin_to_a_public_signature(live_server: LiveServer,
                                                                 browser_page: Page) -> None:
    base = live_server.base_url
    admin = browser_page
    browser = admin.context.browser
    assert browser is not None
    shots = Shots(SHOTS)
    untranslated: set[str] = set()
    tag = uuid.uuid4().hex[:8]
    admin_email = "admin@example.org"
    organiser_email = f"organiser-{tag}@example.org"
    campaign_slug, target_slug, petition_slug = f"e2e-{tag}", f"parliament-{tag}", f"e2e-petition-{tag}"
    campaign_en, campaign_uk = f"Civilians First {tag}", f"Цивільні передусім {tag}"
    target_en, target_uk = f"Verkhovna Rada {tag}", f"Верховна Рада {tag}"
    title_en, title_uk = f"Bring the civilians home {tag}", f"Поверніть цивільних додому {tag}"
    summary_en, summary_uk = "Thousands are held without charge.", "Тисячі утримують без обвинувачення."
    body_en = ("We ask the **parliament** to act now.\n\n- register every detained civilian\n"
               "- give families news\n\nRead [the report](https://example.org/report).\n\n"
               "<script>alert(1)</script>")
    body_uk = "Ми просимо **парламент** діяти.\n\n- зареєструвати кожного\n- повідомити родини"

    with server_output_on_failure(live_server), report_untranslated(untranslated), ExitStack() as contexts:
        # 1. create-admin at the command line: it prints a one-time set-up link --------------------------
        created = run_cli(live_server, "users", "create-admin", admin_email, "--password-stdin",
                          stdin=ADMIN_PASSWORD + "\n")
        match = INVITATION_LINK.search(created.stdout)
        assert match, f"create-admin printed no set-up link:\n{created.stdout}"
        setup_link = match.group(0)
        assert setup_link.startswith(base + "/invitation/"), setup_link

        # 2. the admin sets up the second factor --------------------------------------------------------
        admin.goto(setup_link)
        expect(admin.get_by_role("heading", name="Set up your account")).to_be_visible()
        expect(main(admin)).to_contain_text(admin_email)
        admin.get_by_label(labelled("Password")).fill(ADMIN_PASSWORD)
        shots(admin, "admin-setup-password")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Continue").click()
        assert admin.url == f"{base}/invitation/enrol", admin.url
        secret = re.sub(r"\s", "", admin.locator("code.secret").inner_text())
        assert re.fullmatch(r"[A-Z2-7]{16,}", secret), f"not a base32 secret: {secret!r}"
        expect(admin.locator(".qr svg")).to_have_count(1)  # drawn on the server
        shots(admin, "admin-enrol", phone=True)
        admin_app = Authenticator(secret)

        # the password alone opens nothing
        assert_console_closed(admin, base)
        admin.goto(base + "/invitation/enrol")
        assert re.sub(r"\s", "", admin.locator("code.secret").inner_text()) == secret

        admin.get_by_label(labelled("Code from the app")).fill(admin_app.code())
        with admin.expect_navigation():
            admin.get_by_role("button", name="Confirm").click()
        expect(admin.get_by_role("heading", name="Your recovery codes")).to_be_visible()
        codes = admin.locator("ol.recovery-codes li code")
        expect(codes).to_have_count(10)
        assert len(set(codes.all_inner_texts())) == 10, codes.all_inner_texts()
        shots(admin, "admin-recovery-codes")
        with admin.expect_navigation():
            admin.get_by_role("link", name="I have saved them: continue to the console").click()
        assert admin.url == f"{base}/console/", admin.url
        expect(admin.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        shots(admin, "admin-console-home", phone=True)

        # log out (a POST button), then log in again with the password and a fresh code
        with admin.expect_navigation():
            console_nav(admin).get_by_role("button", name="Log out").click()
        assert admin.url.startswith(f"{base}/login"), admin.url
        admin.goto(base + "/console/")
        assert admin.url.startswith(f"{base}/login"), f"logged out, /console/ ended at {admin.url}"
        admin.get_by_label(labelled("Email address")).fill(admin_email)
        admin.get_by_label(labelled("Password")).fill(ADMIN_PASSWORD)
        shots(admin, "login")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Continue").click()
        assert admin.url == f"{base}/login/code", admin.url
        shots(admin, "login-code")
        assert_console_closed(admin, base)  # the password step alone: still no console
        admin.goto(base + "/login/code")
        expect(admin.get_by_role("heading", name="Second factor")).to_be_visible()
        admin.get_by_label(labelled("Code")).fill(admin_app.code())
        with admin.expect_navigation():
            admin.get_by_role("button", name="Log in").click()
        assert admin.url == f"{base}/console/", admin.url
        expect(console_nav(admin).get_by_role("link", name="People")).to_be_visible()
        shots(admin, "admin-console-home-after-login")

        # 3. the admin creates and publishes a campaign ---------------------------------------------------
        open_from_nav(admin, "Campaigns")
        shots(admin, "campaigns")
        with admin.expect_navigation():
            main(admin).get_by_role("link", name="New campaign").click()
        admin.get_by_label(labelled("Address")).fill(campaign_slug)
        english = admin.get_by_role("group", name="English", exact=True)
        english.get_by_label(labelled("Name")).fill(campaign_en)
        english.get_by_label(labelled("Description")).fill("Civilians held in detention must come home.")
        ukrainian_fields = admin.get_by_role("group", name="Українська", exact=True)
        ukrainian_fields.get_by_label(labelled("Name")).fill(campaign_uk)
        ukrainian_fields.get_by_label(labelled("Description")).fill("Цивільні в полоні мають повернутися.")
        languages = admin.get_by_role("group", name="Languages", exact=True)
        languages.get_by_label(labelled("English")).check()
        languages.get_by_label(labelled("Українська")).check()
        admin.get_by_label(labelled("Sender name")).fill("Civilians First")
        shots(admin, "campaign-new")
        with admin.expect_navigation():
            main(admin).get_by_role("button", name="Save").click()
        expect(admin.get_by_role("heading", name=campaign_en, level=1)).to_be_visible()
        expect(flash(admin)).to_contain_text("The campaign was created as a draft.")
        shots(admin, "campaign-draft")
        with admin.expect_navigation():
            main(admin).get_by_role("button", name="Publish the campaign").click()
        expect(flash(admin)).to_contain_text("The campaign is public.")
        expect(main(admin).get_by_role("button", name="Publish the campaign")).to_have_count(0)
        shots(admin, "campaign-published")

        # ... and invites an organiser for it from the people page
        open_from_nav(admin, "People")
        admin.get_by_label(labelled("Email address")).fill(organiser_email)
        admin.get_by_label(labelled("Role")).select_option(label="Organiser")
        admin.get_by_label(labelled("Campaign (for an organiser)")).select_option(label=campaign_en)
        shots(admin, "people-invite")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Send the invitation").click()
        assert admin.url == f"{base}/console/users", admin.url
        expect(flash(admin)).to_contain_text(f"The invitation is on its way to {organiser_email}.")
        row = main(admin).locator("tr", has=admin.get_by_role("link", name=organiser_email, exact=True))
        expect(row).to_contain_text("invited")
        expect(row).to_contain_text(f"Organiser ({campaign_en})")
        shots(admin, "people-invited", phone=True)
        check_ukrainian_console(admin, shots, "people-uk", untranslated,
                                ("People", "Invite someone", "Email address", "Role", "Send the invitation"))
        expect(admin.locator("main h1")).to_have_text("People")

        # the organiser opens the emailed link in their own browser
        invitation_link = wait_for_link(live_server.mail_dir, organiser_email, INVITATION_LINK)
        assert invitation_link.startswith(base + "/invitation/"), invitation_link
        organiser = contexts.enter_context(new_context(browser)).new_page()
        organiser.goto(invitation_link)
        expect(organiser.get_by_role("heading", name="Set up your account")).to_be_visible()
        organiser.get_by_label(labelled("New password")).fill(ORGANISER_PASSWORD)
        organiser.get_by_label(labelled("The same password again")).fill(ORGANISER_PASSWORD)
        shots(organiser, "organiser-invitation")
        with organiser.expect_navigation():
            organiser.get_by_role("button", name="Continue").click()
        assert organiser.url == f"{base}/invitation/enrol", organiser.url
        organiser_app = Authenticator(re.sub(r"\s", "", organiser.locator("code.secret").inner_text()))
        shots(organiser, "organiser-enrol")
        assert_console_closed(organiser, base)
        organiser.goto(base + "/invitation/enrol")
        organiser.get_by_label(labelled("Code from the app")).fill(organiser_app.code())
        with organiser.expect_navigation():
            organiser.get_by_role("button", name="Confirm").click()
        expect(organiser.locator("ol.recovery-codes li code")).to_have_count(10)
        shots(organiser, "organiser-recovery-codes")
        with organiser.expect_navigation():
            organiser.get_by_role("link", name="I have saved them: continue to the console").click()
        assert organiser.url == f"{base}/console/", organiser.url
        expect(main(organiser).get_by_role("link", name=campaign_en, exact=True)).to_be_visible()
        shots(organiser, "organiser-console-home")

        # 4. the organiser creates and publishes a target -------------------------------------------------
        open_from_nav(organiser, "Targets")
        shots(organiser, "targets")
        with organiser.expect_navigation():
            main(organiser).get_by_role("link", name="New target").click()
        organiser.get_by_label(labelled("Address")).fill(target_slug)
        organiser.get_by_role("group", name="English", exact=True).get_by_label(labelled("Name")).fill(target_en)
        organiser.get_by_role("group", name="Українська", exact=True).get_by_label(labelled("Name")) \
            .fill(target_uk)
        organiser.get_by_label(labelled("Country")).select_option(value="UA")
        organiser.get_by_label(labelled("Languages")).fill("uk")
        organiser.get_by_label(labelled("Contact email")).fill(f"petitions-{tag}@rada.example.org")
        organiser.get_by_role("group", name="Delivery channel").get_by_label("Email to the contact address") \
            .check()
        shots(organiser, "target-new")
        with organiser.expect_navigation():
            main(organiser).get_by_role("button", name="Save").click()
        expect(flash(organiser)).to_contain_text("The target was added as a draft.")
        shots(organiser, "target-draft")
        with organiser.expect_navigation():
            main(organiser).get_by_role("button", name="Publish the target").click()
        expect(flash(organiser)).to_contain_text("The target is public")
        shots(organiser, "target-published")

        # ... and a petition in en and uk, addressed to it, checked in the preview
        open_from_nav(organiser, "Campaigns")
        with organiser.expect_navigation():
            main(organiser).get_by_role("link", name=campaign_en, exact=True).click()
        shots(organiser, "organiser-campaign")
        with organiser.expect_navigation():
            main(organiser).get_by_role("link", name="New petition").click()
        organiser.get_by_label(labelled("Address")).fill(petition_slug)
        for group, (title, summary, body) in (("English", (title_en, summary_en, body_en)),
                                              ("Українська", (title_uk, summary_uk, body_uk))):
            fields = organiser.get_by_role("group", name=group, exact=True)
            fields.get_by_label(labelled("Title")).fill(title)
            fields.get_by_label(labelled("Summary")).fill(summary)
            fields.get_by_label(labelled("Text (Markdown)")).fill(body)
        organiser.get_by_role("group", name="Addressed to").get_by_label(target_en, exact=True).check()
        organiser.get_by_label(labelled("Goal")).fill("1000")
        organiser.get_by_label("Goals per country").fill("UA 500")
        with organiser.expect_navigation():
            main(organiser).get_by_role("button", name="Preview").click()
        preview = organiser.locator("section.preview")
        english_preview = preview.locator("article[lang=en]")
        expect(english_preview.locator("h3")).to_have_text(title_en)
        expect(english_preview.locator(".petition-body strong")).to_have_text("parliament")
        expect(english_preview.locator(".petition-body li")).to_have_count(2)
        expect(english_preview.locator(".petition-body a[href='https://example.org/report']")) \
            .to_have_text("the report")
        expect(english_preview.locator(".petition-body script")).to_have_count(0)
        expect(preview.locator("article[lang=uk] .petition-body strong")).to_have_text("парламент")
        # the form keeps what was typed
        expect(organiser.get_by_role("group", name="Українська", exact=True).get_by_label(labelled("Title"))) \
            .to_have_value(title_uk)
        shots(organiser, "petition-preview", phone=True)
        with organiser.expect_navigation():
            main(organiser).get_by_role("button", name="Save").click()
        expect(flash(organiser)).to_contain_text("The petition was saved as a draft.")
        expect_status(organiser, "draft", "a draft")
        shots(organiser, "petition-draft")

        # submit it: its author gets no Approve button
        with organiser.expect_navigation():
            main(organiser).get_by_role("button", name="Submit for approval").click()
        expect(flash(organiser)).to_contain_text("The petition was submitted")
        expect_status(organiser, "submitted", "submitted for approval")
        expect(main(organiser).get_by_role("button", name="Approve and open for signing")).to_have_count(0)
        expect(main(organiser)).to_contain_text("You submitted it: another organiser of the campaign or an admin")
        shots(organiser, "petition-submitted-by-organiser")
        check_ukrainian_console(organiser, shots, "petition-submitted-uk", untranslated,
                                ("What you can do", "Details", "History", "Addressed to", "Goal", "Closing date"),
                                heading=title_uk)
        open_from_nav(organiser, "Overview")
        expect(organiser.get_by_role("region", name="You submitted these for approval")) \
            .to_contain_text(title_en)
        expect(organiser.get_by_role("region", name="Waiting for your approval")).to_have_count(0)
        shots(organiser, "organiser-home-submitted")

        # 5. the admin approves it -----------------------------------------------------------------------
        open_from_nav(admin, "Overview")
        awaiting = admin.get_by_role("region", name="Waiting for your approval")
        shots(admin, "admin-home-awaiting")
        with admin.expect_navigation():
            awaiting.get_by_role("link", name=title_en, exact=True).click()
        expect_status(admin, "submitted", "submitted for approval")
        shots(admin, "petition-to-approve")
        with admin.expect_navigation():
            main(admin).get_by_role("button", name="Approve and open for signing").click()
        expect(flash(admin)).to_contain_text("The petition is open for signing.")
        expect_status(admin, "open", "open")
        expect(main(admin).locator("table")).to_contain_text(organiser_email)  # the history says who
        expect(main(admin).locator("table")).to_contain_text(admin_email)
        expect(main(admin).get_by_role("link", name=f"/p/{petition_slug}")).to_be_visible()
        shots(admin, "petition-open", phone=True)

        # a third person, anonymous, finds it on the home page
        reader = contexts.enter_context(new_context(browser)).new_page()

        def listed() -> bool:
            reader.goto(base + "/")
            return reader.locator(f"ul.petition-list a[href='/p/{petition_slug}']").count() == 1

        wait_until(f"/p/{petition_slug} on the home page", listed)
        shots(reader, "public-home")
        with reader.expect_navigation():
            reader.locator(f"ul.petition-list a[href='/p/{petition_slug}']").click()
        assert reader.url == f"{base}/p/{petition_slug}", reader.url
        expect(reader.locator("h1")).to_have_text(title_en)
        expect(reader.locator(".petition-text strong")).to_have_text("parliament")
        expect(reader.locator(".addressed")).to_contain_text(target_en)
        reader.locator("header nav.languages").get_by_role("link", name="Українська", exact=True).click()
        expect(reader.locator("html")).to_have_attribute("lang", "uk")
        assert reader.url == f"{base}/p/{petition_slug}", reader.url
        expect(reader.locator("h1")).to_have_text(title_uk)
        expect(reader.locator(".addressed")).to_contain_text(target_uk)
        shots(reader, "public-petition-uk", phone=True)
        reader.locator("header nav.languages").get_by_role("link", name="English", exact=True).click()
        expect(reader.locator("html")).to_have_attribute("lang", "en")
        before = total(reader)
        assert before == 0, f"a new petition shows {before} signatures"

        # 6. ... and signs it publicly -------------------------------------------------------------------
        signer = f"signer-{tag}@example.org"
        form = reader.get_by_role("region", name="Sign this petition")
        form.get_by_label(labelled("Full name")).fill("Olena Testova")
        form.get_by_label(labelled("Email address")).fill(signer)
        form.get_by_label(labelled("Country")).select_option(label="Ukraine")
        form.get_by_label("I agree that my name and country are passed to the institutions this petition is "
                          "addressed to.").check()
        shots(reader, "public-sign-filled")
        with reader.expect_navigation():
            form.get_by_role("button", name="Sign", exact=True).click()
        assert reader.url == f"{base}/p/{petition_slug}/signed", f"signing did not go through: {reader.url}"
        expect(reader.get_by_role("heading", name="Check your email")).to_be_visible()
        shots(reader, "public-signed")

        confirm_link = wait_for_link(live_server.mail_dir, signer, CONFIRM_LINK)
        assert confirm_link.startswith(base + "/confirm/"), confirm_link
        reader.goto(confirm_link)
        button = reader.locator("main form[method=post] button[type=submit]")
        expect(button).to_have_count(1)
        shots(reader, "public-confirm")
        with reader.expect_navigation():
            button.click()
        expect(reader.locator("main button[type=submit]")).to_have_count(0)
        shots(reader, "public-confirmed")

        def counted() -> bool:
            reader.goto(f"{base}/p/{petition_slug}")
            return total(reader) == before + 1

        wait_until(f"the total of /p/{petition_slug} going from {before} to {before + 1}", counted)
        shots(reader, "public-petition-signed")
        print(f"\nscreenshots in {SHOTS}: {', '.join(shots.taken)}")
