"""Who may do what: the roles an account holds and the checks services make with them.

A service that changes something organisers own takes an ``actor`` (a :class:`Principal`) and calls one of
the ``require_*`` checks before it touches anything; views only translate :class:`Forbidden` into a 403.
The principal is a plain value built from the account's grants when a request starts, so services never
reach into the request or the session.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, including accounts
    ORGANISER = "organiser"  # for given campaigns
    LIAISON = "liaison"  # for given targets (institutions): downloads their packets


class Forbidden(PermissionError):
    """The actor may not do this; views answer 403 (or 404 where even the object's existence is private)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or str(_l("You are not allowed to do this."))
        super().__init__(self.message)


@dataclass(frozen=True)
class Principal:
    """An account as services see it: its id and the grants it holds, nothing read from a request.

    ``user_id`` is None only for :data:`SYSTEM`, the command line and the demo loader acting on the
    operator's authority.
    """

    user_id: int | None
    is_admin: bool = False
    # campaigns this account organises, targets it is the liaison of
    campaign_ids: frozenset[int] = field(default_factory=frozenset)
    target_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def is_organiser(self) -> bool:
        """Organises at least one campaign (or is an admin)."""
        return self.is_admin or bool(self.campaign_ids)

    @property
    def is_liaison(self) -> bool:
        return bool(self.target_ids)

    def can_organise(self, campaign_id: int | None) -> bool:
        return self.is_admin or (campaign_id is not None and campaign_id in self.campaign_ids)

    def can_liaise(self, target_id: int | None) -> bool:
        return self.is_admin or (target_id is not None and target_id in self.target_ids)


# The operator at the command line (``advocacy demo``, imports, ``advocacy users create-admin``): acts as an
# admin and is nobody, so it never counts as "another person" for an approval.
SYSTEM = Principal(user_id=None, is_admin=True)


def require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden()


def require_organiser(actor: Principal, campaign_id: int | None) -> None:
    """The actor organises this campaign, or is an admin."""
    if not actor.can_organise(campaign_id):
        raise Forbidden()


def require_any_organiser(actor: Principal) -> None:
    """The actor organises some campaign (creating a target, for one), or is an admin."""
    if not actor.is_organiser:
        raise Forbidden()


def require_liaison(actor: Principal, target_id: int | None) -> None:
    """The actor is the liaison of this target, or an admin."""
    if not actor.can_liaise(target_id):
        raise Forbidden()
