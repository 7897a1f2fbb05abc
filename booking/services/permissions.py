"""Who may do what. Checked in services, never only in templates.

Which bookings a user may *see* is ``services.visibility``; this module answers the questions
that rule is built from (whose organisations, which sites) and what a user may *do*.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from booking.extensions import db
from booking.models import Booking, Membership, User
from booking.services import catalogue
from booking.services.errors import N_, NotPermitted


def authenticated(user) -> User | None:
    """``user`` if someone is logged in (Flask-Login's anonymous user is not), else None."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def require_user(user) -> User:
    """The login guard of every service that acts for someone: a logged-in, active account."""
    u = authenticated(user)
    if u is None:
        raise NotPermitted(N_("You need to log in to do this."), code="login_required")
    if not u.active:
        raise NotPermitted(N_("This account is disabled."), code="account_disabled")
    return u


def can_manage_site(user, site_id: int) -> bool:
    u = authenticated(user)
    if u is None:
        return False
    if u.is_admin:
        return True
    # The sites' managers are part of the catalogue (its version changes with them).
    return u.id in catalogue.current().managers.get(site_id, ())


def managed_site_ids(user) -> set[int] | None:
    """The sites a user manages; None means every site (an administrator)."""
    u = authenticated(user)
    if u is None:
        return set()
    if u.is_admin:
        return None
    managers = catalogue.current().managers
    return {site_id for site_id, user_ids in managers.items() if u.id in user_ids}


def manages_any_site(user) -> bool:
    """An administrator or the manager of at least one site (whose start page is the
    manager's dashboard)."""
    site_ids = managed_site_ids(user)
    return site_ids is None or bool(site_ids)


def is_member(user, organisation_id: int) -> bool:
    u = authenticated(user)
    if u is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Membership.user_id == u.id, Membership.organisation_id == organisation_id
                )
            )
        )
    )


def organisation_ids(user) -> set[int]:
    u = authenticated(user)
    if u is None:
        return set()
    return set(
        db.session.scalars(select(Membership.organisation_id).where(Membership.user_id == u.id))
    )


def is_party_to(user, booking: Booking) -> bool:
    """The requester or a member of the booking's organisation."""
    u = authenticated(user)
    if u is None:
        return False
    if booking.requested_by_id == u.id:
        return True
    return booking.organisation_id is not None and is_member(u, booking.organisation_id)


def can_cancel(user, booking: Booking) -> bool:
    """The booking's parties and the site's managers (everyone who may see it)."""
    return is_party_to(user, booking) or can_manage_site(user, booking.room.site_id)
