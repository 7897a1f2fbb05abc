"""Who may see which booking: one rule, as SQL for lists and feeds and in Python for one booking.

A booking is visible to the person who requested it, to the members of its organisation (its
*parties*), and to the managers of the site its room belongs to; administrators manage every
site. Every list (the API's, "my bookings", the personal feed), every ``.ics`` download and
every service that loads one booking goes through ``Viewer``, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import selectinload

from booking.database import begin_write
from booking.extensions import db
from booking.models import Booking, Room
from booking.services import permissions
from booking.services.errors import N_, NotFound


def _rule(*, managed: bool, values: dict | None = None) -> ColumnElement[bool]:
    """The rule as SQL; without ``values`` its parameters stay open (see ``PARTY_OR_MANAGER``)."""

    def param(name: str, *, expanding: bool = False):
        if values is None:
            return bindparam(name, expanding=expanding)
        return bindparam(name, values[name], expanding=expanding)

    party = or_(
        Booking.requested_by_id == param("viewer_id"),
        Booking.organisation_id.in_(param("viewer_organisation_ids", expanding=True)),
    )
    if not managed:
        return party
    # Never correlated with a room of the enclosing query (a feed joins the date's room).
    sites = select(Room.id).where(Room.site_id.in_(param("viewer_site_ids", expanding=True)))
    return or_(party, Booking.room_id.in_(sites.correlate(None)))


# The rule with open parameters, for statements compiled once (the feeds): fill them with
# ``Viewer.values()``.
PARTY_OR_MANAGER = _rule(managed=True)


@dataclass(frozen=True)
class Viewer:
    """What the rule needs to know about a user, read once per request."""

    user_id: int | None  # None: nobody logged in
    organisation_ids: tuple[int, ...] = ()
    site_ids: tuple[int, ...] | None = ()  # the sites they manage; None: every site (an admin)

    @property
    def sees_everything(self) -> bool:
        return self.user_id is not None and self.site_ids is None

    def values(self) -> dict:
        return {
            "viewer_id": self.user_id if self.user_id is not None else -1,
            "viewer_organisation_ids": list(self.organisation_ids),
            "viewer_site_ids": list(self.site_ids or ()),
        }

    def visible(self) -> ColumnElement[bool]:
        """SQL: the bookings this viewer may see (their own side and the sites they manage)."""
        if self.user_id is None:
            return false()
        if self.sees_everything:
            return true()
        return _rule(managed=True, values=self.values())

    def party(self) -> ColumnElement[bool]:
        """SQL: the bookings this viewer is a party to (requested, or their organisation's)."""
        if self.user_id is None:
            return false()
        return _rule(managed=False, values=self.values())

    def is_party_to(self, booking: Booking) -> bool:
        return self.user_id is not None and (
            booking.requested_by_id == self.user_id
            or booking.organisation_id in self.organisation_ids
        )

    def manages(self, site_id: int) -> bool:
        """Whether this viewer manages ``site_id``: sees every booking there in full."""
        return self.user_id is not None and (
            self.sees_everything or site_id in (self.site_ids or ())
        )

    def can_see(self, booking: Booking) -> bool:
        """Python: the same rule as ``visible`` for one loaded booking."""
        if self.user_id is None:
            return False
        return self.is_party_to(booking) or self.manages(booking.room.site_id)


def viewer(user) -> Viewer:
    """The rule's view of ``user`` (anyone not logged in sees no booking)."""
    if permissions.authenticated(user) is None:
        return Viewer(None)
    managed = permissions.managed_site_ids(user)
    return Viewer(
        user.id,
        tuple(sorted(permissions.organisation_ids(user))),
        None if managed is None else tuple(sorted(managed)),
    )


def visible_bookings(user) -> ColumnElement[bool]:
    """SQL condition on ``Booking``: the bookings ``user`` may see."""
    return viewer(user).visible()


def can_view_booking(user, booking: Booking) -> bool:
    return viewer(user).can_see(booking)


def get_booking(user, booking_id: int, *, for_update: bool = False) -> Booking:
    """A booking the user may see; others get NotFound (no hint whether it exists)."""
    if for_update:
        begin_write()
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).options(selectinload(Booking.occurrences))
    )
    if booking is None or not can_view_booking(user, booking):
        raise NotFound(N_("There is no such booking."))
    return booking
