"""The accounts tests' helpers (an admin set up in the browser, a campaign) serve the audit tests too."""

from tests.accounts.conftest import admin, campaign, cli, in_app  # noqa: F401
