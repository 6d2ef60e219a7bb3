"""A packet's whole way in a real browser: an admin delivers a demo petition to the Bundestag by email; the
Bundestag's liaison, invited from the console, opens the emailed link, logs in with two factors,
downloads the packet, checks it at /verify, marks it received and publishes a response in Ukrainian, which
readers then see on the petition's page.
"""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_browser import server_output_on_failure, wait_for_link
from tests.e2e.test_organiser import (
    ADMIN_PASSWORD,
    INVITATION_LINK,
    PUBLIC_WAIT_SECONDS,
    Authenticator,
    flash,
    labelled,
    main,
    new_context,
    run_cli,
    wait_until,
)

if TYPE_CHECKING:  # a type only: never import a conftest module at run time
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

SLUG = "free-ukrainian-civilians"
LIAISON_PASSWORD = "liaison passphrase, long enough"
PACKET_LINK = re.compile(r"https?://[^\s\"'<>]+/console/packets/link/[^\s\"'<>]+")


def enrol(page: Page, link: str, *, new_password: str | None = None, password: str | None = None) -> Authenticator:
    """Open an invitation or set-up link, give the password, enrol the authenticator, save the codes."""
    page.goto(link)
    if new_password is not None:
        page.get_by_label(labelled("New password")).fill(new_password)
        page.get_by_label(labelled("The same password again")).fill(new_password)
    else:
        page.get_by_label(labelled("Password")).fill(password or "")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    app = Authenticator(re.sub(r"\s", "", page.locator("code.secret").inner_text()))
    page.get_by_label(labelled("Code from the app")).fill(app.code())
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    with page.expect_navigation():
        page.get_by_role("link", name="I have saved them: continue to the console").click()
    return app


def test_a_packet_from_delivery_to_the_liaisons_published_response(live_server: LiveServer, browser_page: Page,
                                                                   tmp_path: Path) -> None:
    base = live_server.base_url
    admin = browser_page
    browser = admin.context.browser
    assert browser is not None
    tag = uuid.uuid4().hex[:8]
    contact = f"petitions-{tag}@bundestag.example.org"
    liaison_email = f"liaison-{tag}@bundestag.example.org"

    with server_output_on_failure(live_server), ExitStack() as contexts:
        created = run_cli(live_server, "users", "create-admin", f"admin-{tag}@example.org", "--password-stdin",
                          stdin=ADMIN_PASSWORD + "\n")
        match = INVITATION_LINK.search(created.stdout)
        assert match, created.stdout
        enrol(admin, match.group(0), password=ADMIN_PASSWORD)
        assert admin.url == f"{base}/console/", admin.url

        # the Bundestag gets a contact address: deliveries go there by email
        admin.goto(f"{base}/console/targets")
        with admin.expect_navigation():
            main(admin).get_by_role("row", name=re.compile("German Bundestag")).get_by_role("link").first.click()
        admin.get_by_label(labelled("Contact email")).fill(contact)
        with admin.expect_navigation():
            main(admin).get_by_role("button", name="Save").click()

        # the admin invites the Bundestag's liaison, who sets up their account in their own browser
        admin.goto(f"{base}/console/users")
        admin.get_by_label(labelled("Email address")).fill(liaison_email)
        admin.get_by_label(labelled("Role")).select_option(label="Liaison")
        admin.get_by_label(labelled("Institution (for a liaison)")).select_option(label="German Bundestag")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Send the invitation").click()
        invitation = wait_for_link(live_server.mail_dir, liaison_email, INVITATION_LINK)
        liaison = contexts.enter_context(new_context(browser)).new_page()
        liaison_app = enrol(liaison, invitation, new_password=LIAISON_PASSWORD)
        expect(liaison.get_by_role("navigation").get_by_role("link", name="Packets")).to_be_visible()

        # the admin delivers the petition to the Bundestag now
        admin.goto(f"{base}/console/campaigns")
        with admin.expect_navigation():
            main(admin).get_by_role("link", name=re.compile("People First")).first.click()
        with admin.expect_navigation():  # the campaign's first petition: the demo's civilians petition
            main(admin).locator('a[href^="/console/petitions/"]').first.click()
        with admin.expect_navigation():
            main(admin).get_by_role("link", name="Signature packets").click()
        deliver = main(admin).locator("section", has=admin.get_by_role("heading", name="Deliver", exact=True))
        deliver.get_by_label(labelled("Addressed to")).select_option(label="German Bundestag")
        deliver.get_by_label("Now").check()
        with admin.expect_navigation():
            deliver.get_by_role("button", name="Schedule the delivery").click()
        expect(flash(admin)).to_contain_text("The packet is being built and delivered.")

        def delivered() -> bool:
            admin.reload()
            return main(admin).locator("#deliveries").get_by_text("Delivered").count() > 0

        wait_until("the delivery to be done", delivered, seconds=60)

        # the contact address got a link, never the data; the liaison opens it and logs in
        link = wait_for_link(live_server.mail_dir, contact, PACKET_LINK)
        liaison.goto(link)
        assert "/console/packets/" in liaison.url, liaison.url
        row = main(liaison).locator("tr", has=liaison.get_by_text("German Bundestag"))
        with liaison.expect_download() as waiting:
            row.get_by_role("link", name="Download").click()
        packet = tmp_path / "packet.zip"
        waiting.value.save_as(packet)
        assert packet.stat().st_size > 1000

        # anyone can check it at /verify
        liaison.goto(f"{base}/verify")
        liaison.get_by_label(labelled("Packet (zip file)")).set_input_files(str(packet))
        with liaison.expect_navigation():
            liaison.get_by_role("button", name="Check the packet").click()
        expect(liaison.get_by_role("heading", name="The packet checks out")).to_be_visible()

        # received, then the institution's answer in Ukrainian
        liaison.goto(f"{base}/console/packets/")
        with liaison.expect_navigation():
            main(liaison).get_by_role("button", name="Mark as received").click()
        expect(flash(liaison)).to_contain_text("Marked as received.")
        with liaison.expect_navigation():
            main(liaison).get_by_role("link", name="Publish a response").first.click()
        liaison.get_by_label(labelled("Українська")).fill(f"Комітет Бундестагу розгляне петицію {tag}.")
        with liaison.expect_navigation():
            main(liaison).get_by_role("button", name="Publish the response").click()
        expect(flash(liaison)).to_contain_text("The response is published on the petition’s page.")
        assert liaison_app.last_step is not None

        reader = contexts.enter_context(new_context(browser)).new_page()

        def answered() -> bool:
            reader.goto(f"{base}/p/{SLUG}?lang=uk")
            return reader.get_by_text(f"Комітет Бундестагу розгляне петицію {tag}.").count() == 1

        wait_until("the response on the petition's page", answered, seconds=PUBLIC_WAIT_SECONDS)
