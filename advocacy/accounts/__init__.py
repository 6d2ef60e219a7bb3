"""Organiser, admin and liaison accounts: two-factor login, invitations, roles."""
