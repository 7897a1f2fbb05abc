"""One rule for who sees which booking, and every list, feed and download keeps to it.

For random worlds of bookings (public or private; requested by one person, for one of two
organisations or privately; on one of two sites) and every kind of viewer (anonymous, a member,
a member of two organisations, a site manager, an administrator), each surface shows exactly
the bookings an independent statement of the rule allows:

- the API list, the personal feed and ``/bookings/<id>.ics``: the viewer's own and their
  organisations' bookings, and every booking on a site they manage (admins: all);
- "my bookings": the viewer's own side only (requested by them or their organisations').
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from booking.api.tokens import create_token
from booking.feeds import cache
from booking.feeds.service import issue_token
from booking.models import (
    ApprovalPolicy,
    Booking,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    OrganisationKind,
    Room,
    Site,
    SiteKind,
    User,
)
from booking.services import visibility


@dataclass(frozen=True)
class Spec:
    requester: int  # index into the people who can book
    organisation: int | None  # 0 or 1, or None for a private person
    site: int  # 0 or 1
    public: bool


specs = st.lists(
    st.builds(
        Spec,
        requester=st.integers(0, 2),
        organisation=st.none() | st.integers(0, 1),
        site=st.integers(0, 1),
        public=st.booleans(),
    ),
    min_size=1,
    max_size=6,
)

# The viewers: name -> (organisations they belong to, sites they manage, admin?)
VIEWERS = {
    "member": ({0}, set(), False),
    "member_of_two": ({0, 1}, set(), False),
    "manager": (set(), {0}, False),
    "admin": (set(), set(), True),
    "outsider": (set(), set(), False),
}


def build_world(db, make_user, world: list[Spec]):
    sites = [
        Site(name=f"Site {i}", kind=SiteKind.SCHOOL, district="Mitte", street="A", postcode="1")
        for i in range(2)
    ]
    rooms = [
        Room(site=site, name=f"Room {i}", capacity=30, approval_policy=ApprovalPolicy.AUTOMATIC)
        for i, site in enumerate(sites)
    ]
    organisations = [
        Organisation(name=f"Verein {i}", kind=OrganisationKind.ASSOCIATION) for i in range(2)
    ]
    db.session.add_all([*sites, *rooms, *organisations])
    db.session.flush()
    viewers = {
        name: make_user(
            email=f"{name}@example.org",
            organisations=[organisations[o] for o in sorted(orgs)],
            manages=[sites[s] for s in sorted(managed)],
            is_admin=admin,
        )
        for name, (orgs, managed, admin) in VIEWERS.items()
    }
    # Who requests: the member, the member of two organisations, and the outsider.
    requesters = [viewers["member"], viewers["member_of_two"], viewers["outsider"]]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    bookings = []
    for n, spec in enumerate(world):
        booking = Booking(
            room=rooms[spec.site],
            requested_by=requesters[spec.requester],
            organisation=None if spec.organisation is None else organisations[spec.organisation],
            title=f"Booking {n}",
            is_public=spec.public,
        )
        booking.occurrences = [
            Occurrence(
                room=rooms[spec.site],
                starts_at=start + timedelta(hours=2 * n),
                ends_at=start + timedelta(hours=2 * n + 1),
                status=OccurrenceStatus.APPROVED if n % 2 else OccurrenceStatus.PENDING,
            )
        ]
        bookings.append(booking)
    db.session.add_all(bookings)
    db.session.commit()
    return viewers, bookings


def rule(user: User, booking: Booking) -> tuple[bool, bool]:
    """The rule, stated independently: (may see it, is a party to it)."""
    organisations = {m.organisation_id for m in user.memberships}
    party = booking.requested_by_id == user.id or booking.organisation_id in organisations
    manages = booking.room.site_id in {s.id for s in user.managed_sites}
    return (party or manages or user.is_admin), party


def api_list(client, user) -> set[int]:
    _token, plain = create_token(user, "visibility")
    found, url = set(), "/api/v1/bookings?limit=200"
    while url:
        body = client.get(url, headers={"Authorization": f"Bearer {plain}"}).get_json()
        found |= {item["id"] for item in body["items"]}
        url = body["next"]
    return found


def personal_feed(client, db, user) -> set[int]:
    token = issue_token(user)
    db.session.commit()
    cache.clear()  # ids repeat from one generated world to the next
    response = client.get(f"/ical/feed/{token}.ics")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    occurrence_ids = {
        int(re.match(r"occurrence-(\d+)@", str(event["UID"])).group(1))
        for event in calendar.walk("VEVENT")
    }
    return set(
        db.session.scalars(
            select(Occurrence.booking_id).where(Occurrence.id.in_(occurrence_ids))
        ).all()
    )


def pages_of(client, login, user, bookings) -> tuple[set[int], set[int]]:
    """What the user, logged in, sees in "my bookings" and can download as ``.ics``."""
    login(user)
    html = client.get("/my/bookings").get_data(as_text=True)
    listed = {int(n) for n in re.findall(r'<article class="booking" id="booking-(\d+)"', html)}
    downloads = set()
    for booking in bookings:
        status = client.get(f"/bookings/{booking.id}.ics").status_code
        assert status in (200, 404)
        if status == 200:
            downloads.add(booking.id)
    client.post("/logout", data={})
    return listed, downloads


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=specs)
def test_every_surface_shows_what_the_rule_allows(
    db, client, login_as, make_user, reset_database, world
):
    try:
        viewers, bookings = build_world(db, make_user, world)
        for name, user in viewers.items():
            visible = {b.id for b in bookings if rule(user, b)[0]}
            own_side = {b.id for b in bookings if rule(user, b)[1]}
            seen_by_rule = set(
                db.session.scalars(select(Booking.id).where(visibility.visible_bookings(user)))
            )
            assert seen_by_rule == visible, name
            assert {b.id for b in bookings if visibility.can_view_booking(user, b)} == visible
            assert api_list(client, user) == visible, name
            assert personal_feed(client, db, user) == visible, name
            listed, downloads = pages_of(client, login_as, user, bookings)
            assert downloads == visible, name
            assert listed == own_side, name
        # Nobody logged in sees no booking at all.
        assert all(client.get(f"/bookings/{b.id}.ics").status_code in (302, 404) for b in bookings)
    finally:
        reset_database()
