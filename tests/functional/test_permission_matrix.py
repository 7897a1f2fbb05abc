"""Every route × every kind of user: the expected status, and no private detail of a booking
leaks to someone who may not see it.

The people: nobody logged in, a member of an organisation (who requested the bookings), the
manager of site X, the manager of site Y, an administrator. Each route is called with each of
them against a fresh world with pending private bookings on both sites, the booking a call
changes being its own for each person, so no call sees another's effects.

A new route must be added here: ``test_every_route_is_in_the_matrix`` fails otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from booking.api.tokens import create_token
from booking.models import ApprovalPolicy, Booking, Occurrence, OccurrenceStatus

ROLES = ("anonymous", "member", "manager_x", "manager_y", "admin")
SECRET_X = "Geheime Probe X"  # private titles: only the parties and site X's managers see them
SECRET_Y = "Geheime Probe Y"


@dataclass
class World:
    users: dict
    site_x: object
    site_y: object
    room_x: object
    room_y: object
    organisation: object
    booking_x: dict = field(default_factory=dict)  # per role: a pending private booking on X
    booking_y: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)  # per role: an API token (members' and others')


@pytest.fixture
def world(db, make_site, make_room, make_user, make_organisation) -> World:
    site_x, site_y = make_site(name="Site X"), make_site(name="Site Y")
    room_x = make_room(site_x, approval_policy=ApprovalPolicy.MANUAL)
    room_y = make_room(site_y, approval_policy=ApprovalPolicy.MANUAL)
    organisation = make_organisation(name="Verein A")
    users = {
        "member": make_user(organisations=[organisation]),
        "other_member": make_user(organisations=[organisation]),
        "manager_x": make_user(manages=[site_x]),
        "manager_y": make_user(manages=[site_y]),
        "admin": make_user(is_admin=True),
    }
    w = World(users, site_x, site_y, room_x, room_y, organisation)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    for n, role in enumerate(ROLES):
        for room, title, store in (
            (room_x, SECRET_X, w.booking_x),
            (room_y, SECRET_Y, w.booking_y),
        ):
            booking = Booking(
                room=room,
                requested_by=users["member"],
                organisation=organisation,
                title=title,
                is_public=False,
            )
            at = start + timedelta(hours=3 * n)
            booking.occurrences = [
                Occurrence(
                    room=room,
                    starts_at=at,
                    ends_at=at + timedelta(hours=1),
                    status=OccurrenceStatus.PENDING,
                )
            ]
            db.session.add(booking)
            store[role] = booking
    db.session.flush()
    for role in ROLES[1:]:
        w.tokens[role] = create_token(users[role], "matrix")[1]
    db.session.commit()
    return w


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[World, str], str]
    expected: dict[str, int]  # by role
    data: Callable[[World, str], dict] | None = None
    json: Callable[[World, str], dict] | None = None
    api: bool = False  # authenticate with the role's bearer token instead of a login

    @property
    def id(self) -> str:
        return f"{self.method} {self.path.__doc__ or ''}"


def same(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def logged_in(anonymous: int, others: int) -> dict[str, int]:
    return {"anonymous": anonymous} | dict.fromkeys(ROLES[1:], others)


def path(template: str) -> Callable[[World, str], str]:
    """A path with {bx}/{by} (the role's own booking on X/Y), {room}, {site}, {org}, {token}."""

    def build(w: World, role: str) -> str:
        return template.format(
            bx=w.booking_x[role].id,
            by=w.booking_y[role].id,
            ox=w.booking_x[role].occurrences[0].id,
            room=w.room_x.id,
            site=w.site_x.id,
            org=w.organisation.id,
            # The member leaves; the admin removes another member (each finds theirs there).
            member=w.users["other_member" if role == "admin" else "member"].id,
        )

    build.__doc__ = template
    return build


def manager_x_of_site_x(w: World, role: str) -> str:
    return f"/admin/sites/{w.site_x.id}/managers/{w.users['manager_x'].id}/remove"


manager_x_of_site_x.__doc__ = "/admin/sites/{site}/managers/{manager}/remove"


def room_x_in_the_week_of_bx(w: World, role: str) -> str:
    """Room X's calendar in the week of the role's pending private booking there."""
    from zoneinfo import ZoneInfo

    starts = w.booking_x[role].occurrences[0].starts_at
    year, week, _day = starts.astimezone(ZoneInfo(w.site_x.timezone)).isocalendar()
    return f"/rooms/{w.room_x.id}?week={year}-W{week:02d}"


room_x_in_the_week_of_bx.__doc__ = "/rooms/{room}?week=<the week of bx>"


def member_of_site_x(anonymous, member, manager_x, manager_y, admin) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, member, manager_x, manager_y, admin), strict=True))


def the_projector(template: str) -> Callable[[World, str], str]:
    """A path with {key}: the seeded feature "projector" (the managed equipment list, #11)."""

    def build(w: World, role: str) -> str:
        return template.format(key="projector")

    build.__doc__ = template
    return build


def with_closure(template: str) -> Callable[[World, str], str]:
    """A path with {closure}: a new closure of site X over the role's own booking there."""

    def build(w: World, role: str) -> str:
        from booking.extensions import db
        from booking.models import Closure

        own = w.booking_x[role].occurrences[0]
        closure = Closure(
            site_id=w.site_x.id, starts_at=own.starts_at, ends_at=own.ends_at, reason="Matrix"
        )
        db.session.add(closure)
        db.session.flush()
        return path(template.replace("{closure}", str(closure.id)))(w, role)

    build.__doc__ = template
    return build


MATRIX_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Matrix//DE\r\nBEGIN:VEVENT\r\n"
    "UID:matrix@example.org\r\nSUMMARY:Ferien\r\nDTSTART;VALUE=DATE:20300107\r\n"
    "DTEND;VALUE=DATE:20300108\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def with_opening_exception(template: str) -> Callable[[World, str], str]:
    """A path with {exception}: a new dated opening exception of site X for each call."""

    def build(w: World, role: str) -> str:
        from booking.extensions import db
        from booking.models import OpeningException

        day = datetime.now(UTC).date() + timedelta(days=30 + ROLES.index(role))
        row = OpeningException(site_id=w.site_x.id, day=day, reason="Matrix")
        db.session.add(row)
        db.session.flush()
        return path(template.replace("{exception}", str(row.id)))(w, role)

    build.__doc__ = template
    return build


def with_join_request(template: str, *, own: bool = False) -> Callable[[World, str], str]:
    """A path with {jr}: a new pending request to join Verein A, by the calling role's user
    (``own``) or by a new person (for the admins' answer)."""

    def build(w: World, role: str) -> str:
        from booking.extensions import db
        from booking.models import JoinRequest, User

        if own and role == "anonymous":
            return path(template.replace("{jr}", "424242"))(w, role)
        if own:
            asker = w.users[role]
        else:
            n = len(db.session.scalars(db.select(User.id)).all())
            asker = User(email=f"asker{n}@example.org", name="Asker", password_hash="x")
        request = JoinRequest(organisation_id=w.organisation.id, user=asker, message="Hallo")
        db.session.add(request)
        db.session.flush()
        return path(template.replace("{jr}", str(request.id)))(w, role)

    build.__doc__ = template
    return build


CASES = [
    # Public pages.
    Case("GET", path("/"), same(200)),
    Case("GET", path("/about"), same(200)),
    Case("GET", path("/offers"), same(200)),
    Case("GET", path("/offers/{bx}"), same(404)),  # private: no open offer
    Case("GET", path("/offers/{bx}.ics"), same(404)),
    Case("GET", path("/directory"), same(200)),
    Case("GET", path("/embed/offers"), same(200)),
    Case("GET", path("/directory/{org}"), same(404)),  # Verein A is not listed
    Case("GET", path("/help"), same(200)),
    Case("GET", path("/rooms/{room}"), same(200)),
    Case("GET", path("/sites/{site}"), same(200)),
    Case("GET", path("/api/v1/docs"), same(200)),
    Case("GET", path("/ical/public.ics"), same(200)),
    Case("GET", path("/ical/rooms/{room}.ics"), same(200)),
    Case("GET", path("/ical/sites/{site}.ics"), same(200)),
    Case("GET", path("/ical/feed/not-a-token.ics"), same(404)),
    # Accounts.
    Case("GET", path("/login"), logged_in(200, 302)),
    Case("POST", path("/login"), logged_in(422, 302), data=lambda w, r: {"email": "x"}),
    Case("GET", path("/register"), logged_in(200, 302)),
    Case("POST", path("/register"), logged_in(422, 302), data=lambda w, r: {}),
    # Without a registration in this session there is nothing to tell: back to the form.
    Case("GET", path("/register/sent"), same(302)),
    # A link that was never mailed.
    Case("GET", path("/register/confirm/not-a-token"), same(410)),
    Case("POST", path("/register/confirm/not-a-token"), same(410)),
    Case("POST", path("/logout"), same(302)),
    Case("GET", path("/password-reset"), same(200)),
    Case("POST", path("/password-reset"), same(422), data=lambda w, r: {"email": ""}),
    Case("GET", path("/password-reset/not-a-token"), same(410)),
    Case("POST", path("/password-reset/not-a-token"), same(410), data=lambda w, r: {}),
    Case("GET", path("/profile"), logged_in(302, 200)),
    Case("POST", path("/profile"), logged_in(302, 422), data=lambda w, r: {"x": "y"}),
    Case("GET", path("/profile/api-tokens"), logged_in(302, 200)),
    Case("POST", path("/profile/api-tokens"), logged_in(302, 201), data=lambda w, r: {"name": "t"}),
    # Revoking someone else's token is answered like an unknown one (a message, no change).
    Case("POST", path("/profile/api-tokens/424242/revoke"), logged_in(302, 302)),
    Case("POST", path("/profile/feed-token"), logged_in(302, 200)),
    # Organisations.
    Case("GET", path("/organisations"), logged_in(302, 200)),
    Case("GET", path("/organisations/new"), logged_in(302, 200)),
    Case("POST", path("/organisations/new"), logged_in(302, 422), data=lambda w, r: {}),
    Case("GET", path("/organisations/{org}"), member_of_site_x(302, 200, 404, 404, 200)),
    Case("GET", path("/organisations/{org}/edit"), member_of_site_x(302, 403, 404, 404, 200)),
    Case(
        "POST",
        path("/organisations/{org}/edit"),
        member_of_site_x(302, 403, 404, 404, 422),
        data=lambda w, r: {"name": ""},
    ),
    Case(
        "POST",
        path("/organisations/{org}/members"),
        member_of_site_x(302, 403, 404, 404, 302),
        data=lambda w, r: {"email": "nobody@example.org"},
    ),
    # Invitations (#13): withdrawn by the organisation's admins; answered through the link.
    Case(
        "POST",
        path("/organisations/{org}/invitations/424242/withdraw"),
        member_of_site_x(302, 403, 404, 404, 404),
    ),
    Case("GET", path("/organisations/invitations/not-a-token"), same(410)),
    Case("POST", path("/organisations/invitations/not-a-token"), same(410)),
    Case(
        "POST",
        path("/organisations/{org}/members/{member}/remove"),
        member_of_site_x(302, 302, 404, 404, 302),
    ),
    Case(
        "POST",
        path("/organisations/{org}/members/{member}/role"),
        member_of_site_x(302, 403, 404, 404, 302),
        data=lambda w, r: {"role": "admin"},
    ),
    # Booking.
    Case("GET", path("/rooms/{room}/book"), logged_in(302, 200)),
    Case("POST", path("/rooms/{room}/book"), logged_in(302, 422), data=lambda w, r: {}),
    Case("GET", path("/my/bookings"), logged_in(302, 200)),
    Case("GET", path("/my/bookings/{bx}/received"), member_of_site_x(302, 200, 200, 404, 200)),
    Case("POST", path("/my/bookings/{bx}/cancel"), member_of_site_x(302, 302, 302, 404, 302)),
    Case("GET", path("/bookings/{bx}.ics"), member_of_site_x(404, 200, 200, 404, 200)),
    # The manager's pages.
    Case("GET", path("/manage"), member_of_site_x(302, 403, 200, 200, 200)),
    Case(
        "POST",
        path("/manage/bookings/{bx}/decide"),
        member_of_site_x(302, 404, 302, 404, 302),
        data=lambda w, r: {"action": "approve"},
    ),
    # Door plans (#11).
    Case("GET", path("/manage/sites/{site}/plan"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "GET",
        path("/manage/sites/{site}/plan?view=week&pending=y"),
        member_of_site_x(302, 403, 200, 403, 200),
    ),
    Case(
        "GET",
        path("/manage/sites/{site}/plan?date=not-a-date"),
        member_of_site_x(302, 400, 400, 400, 400),
    ),
    Case("GET", path("/manage/rooms/{room}/door-sign"), member_of_site_x(302, 403, 200, 403, 200)),
    # The manager's day (#11).
    Case("GET", path("/manage/requests"), member_of_site_x(302, 403, 200, 200, 200)),
    Case(
        "GET",
        path("/manage/requests?site={site}&date=2030-01-07&page=2"),
        member_of_site_x(302, 403, 200, 404, 200),
    ),
    Case(
        "POST",
        path("/manage/bookings/{bx}/decide"),
        member_of_site_x(302, 404, 302, 404, 302),
        data=lambda w, r: {"action": "approve", "rival_reason": "Vergeben"},
    ),
    # Approved bookings for managers (#11).
    Case("GET", path("/manage/bookings"), member_of_site_x(302, 403, 200, 200, 200)),
    Case(
        "GET",
        path("/manage/bookings?site={site}&room={room}&from=2030-01-07&to=2030-01-08&page=2"),
        member_of_site_x(302, 403, 200, 404, 200),
    ),
    Case("GET", path("/manage/bookings/{bx}/cancel"), member_of_site_x(302, 404, 200, 404, 200)),
    # The world's dates are pending: nothing approved to cancel (a message) or move (409).
    Case(
        "POST",
        path("/manage/bookings/{bx}/cancel"),
        member_of_site_x(302, 404, 302, 404, 302),
        data=lambda w, r: {"reason": "Umbau"},
    ),
    Case("GET", path("/manage/dates/{ox}/move"), member_of_site_x(302, 404, 409, 404, 409)),
    Case(
        "POST",
        path("/manage/dates/{ox}/move"),
        member_of_site_x(302, 404, 409, 404, 409),
        data=lambda w, r: {"day": "2030-01-07", "start": "08:00", "end": "09:00"},
    ),
    Case("GET", path("/manage/bookings/{bx}/series"), member_of_site_x(302, 404, 200, 404, 200)),
    Case(
        "POST",
        path("/manage/bookings/{bx}/series"),
        member_of_site_x(302, 404, 422, 404, 422),
        data=lambda w, r: {},
    ),
    # Administration of sites and rooms (#11).
    Case(
        "GET",
        path("/admin/sites/{site}/opening-hours"),
        member_of_site_x(302, 403, 200, 403, 200),
    ),
    Case(
        "POST",
        path("/admin/sites/{site}/opening-hours"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {"day0": "16:00", "day0_until": "22:00", "save": "1"},
    ),
    Case(
        "GET",
        path("/admin/rooms/{room}/opening-hours"),
        member_of_site_x(302, 403, 200, 403, 200),
    ),
    Case(
        "POST",
        path("/admin/rooms/{room}/opening-hours"),
        member_of_site_x(302, 403, 422, 403, 422),
        data=lambda w, r: {"day1": "14:00", "day1_until": "10:00", "save": "1"},
    ),
    Case(
        "PUT",
        path("/api/v1/sites/{site}/opening-hours"),
        member_of_site_x(401, 403, 200, 403, 200),
        json=lambda w, r: {"windows": [{"weekday": 0, "opens": "16:00", "closes": "22:00"}]},
        api=True,
    ),
    # Dated opening exceptions (#11).
    Case(
        "POST",
        path("/admin/sites/{site}/opening-hours/exceptions"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {"exception-day": "2030-01-07", "exception-closed": "y"},
    ),
    Case(
        "POST",
        path("/admin/rooms/{room}/opening-hours/exceptions"),
        member_of_site_x(302, 403, 422, 403, 422),
        data=lambda w, r: {
            "exception-day": "2030-01-07",
            "exception-opens": "14:00",
            "exception-closes": "10:00",
        },
    ),
    Case(
        "POST",
        with_opening_exception("/admin/opening-exceptions/{exception}/delete"),
        member_of_site_x(302, 403, 302, 403, 302),
    ),
    Case(
        "PUT",
        path("/api/v1/sites/{site}/opening-exceptions"),
        member_of_site_x(401, 403, 200, 403, 200),
        json=lambda w, r: {"exceptions": [{"date": "2030-01-07", "closed": True}]},
        api=True,
    ),
    Case("GET", path("/admin"), member_of_site_x(302, 403, 200, 200, 200)),
    Case("GET", path("/admin/sites/new"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        path("/admin/sites/new"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"name": "Stadtpark", "kind": "park", "district": "Mitte"},
    ),
    Case("GET", path("/admin/sites/{site}/edit"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "POST",
        path("/admin/sites/{site}/edit"),
        member_of_site_x(302, 403, 422, 403, 422),
        data=lambda w, r: {"name": "", "kind": "school", "district": "Mitte"},
    ),
    Case("GET", path("/admin/sites/{site}/rooms/new"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "POST",
        path("/admin/sites/{site}/rooms/new"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {
            "name": f"Raum {r}",
            "capacity": "10",
            "approval_policy": "manual",
            "min_lead_minutes": "0",
            "buffer_before_minutes": "0",
            "buffer_after_minutes": "0",
            "parent_id": "",
        },
    ),
    Case("GET", path("/admin/rooms/{room}/edit"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "POST",
        path("/admin/rooms/{room}/edit"),
        member_of_site_x(302, 403, 422, 403, 422),
        data=lambda w, r: {"name": "", "capacity": "10"},
    ),
    Case(
        "POST",
        path("/api/v1/sites"),
        member_of_site_x(401, 403, 403, 403, 201),
        json=lambda w, r: {"name": "Stadtpark", "kind": "park", "district": "Mitte"},
        api=True,
    ),
    Case(
        "PATCH",
        path("/api/v1/sites/{site}"),
        member_of_site_x(401, 403, 200, 403, 200),
        json=lambda w, r: {"contact_name": f"Kontakt {r}"},
        api=True,
    ),
    Case(
        "POST",
        path("/api/v1/rooms"),
        member_of_site_x(401, 403, 201, 403, 201),
        json=lambda w, r: {"site_id": w.site_x.id, "name": f"Raum {r}", "capacity": 10},
        api=True,
    ),
    Case(
        "PATCH",
        path("/api/v1/rooms/{room}"),
        member_of_site_x(401, 403, 200, 403, 200),
        json=lambda w, r: {"capacity": 12},
        api=True,
    ),
    # Audit history (#11).
    Case(
        "GET",
        path("/manage/bookings/{bx}/history"),
        member_of_site_x(302, 200, 200, 404, 200),
    ),
    Case("GET", path("/admin/sites/{site}/history"), member_of_site_x(302, 403, 200, 403, 200)),
    Case("GET", path("/admin/rooms/{room}/history"), member_of_site_x(302, 403, 200, 403, 200)),
    Case("GET", path("/admin/audit"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "GET",
        path("/admin/audit?site={site}&room={room}&action=approved&since=2030-01-07&page=2"),
        member_of_site_x(302, 403, 403, 403, 200),
    ),
    Case(
        "GET",
        path("/api/v1/audit?booking_id={bx}"),
        member_of_site_x(401, 200, 200, 404, 200),
        api=True,
    ),
    Case(
        "GET",
        path("/api/v1/audit?site_id={site}&room_id={room}&action=approved"),
        member_of_site_x(401, 403, 200, 403, 200),
        api=True,
    ),
    Case("GET", path("/api/v1/audit"), member_of_site_x(401, 422, 422, 422, 200), api=True),
    # Managers' request mails and calendars (#11).
    # The calendar shows private titles and requests to site X's managers only.
    Case("GET", room_x_in_the_week_of_bx, same(200)),
    Case(
        "POST",
        path("/profile?request-mails"),
        member_of_site_x(302, 403, 302, 302, 302),
        data=lambda w, r: {"mails-submit": "1", "mails-request_mails": "digest"},
    ),
    # People and organisations administration (#11).
    Case("GET", path("/admin/users"), member_of_site_x(302, 403, 403, 403, 200)),
    Case("GET", path("/admin/users/{member}"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        path("/admin/users/{member}"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"action": "deactivate"},
    ),
    # A site's managers may see who else manages it (read-only).
    Case("GET", path("/admin/sites/{site}/managers"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "POST",
        path("/admin/sites/{site}/managers"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"email": w.users["member"].email},
    ),
    Case("POST", manager_x_of_site_x, member_of_site_x(302, 403, 403, 403, 302)),
    Case("GET", path("/admin/organisations"), member_of_site_x(302, 403, 403, 403, 200)),
    Case("GET", path("/admin/organisations/{org}"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        path("/admin/organisations/{org}"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"trusted": "1"},
    ),
    # Closures (#11).
    Case("GET", path("/admin/sites/{site}/closures"), member_of_site_x(302, 403, 200, 403, 200)),
    Case(
        "POST",
        path("/admin/sites/{site}/closures"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {"from_day": "2030-01-07", "to_day": "2030-01-08", "reason": "Umbau"},
    ),
    Case(
        "POST",
        path("/admin/sites/{site}/closures/import"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {"holidays": "public"},
    ),
    Case(
        "GET",
        with_closure("/admin/sites/{site}/closures/hits?closure={closure}"),
        member_of_site_x(302, 403, 200, 403, 200),
    ),
    Case(
        "POST",
        with_closure("/admin/sites/{site}/closures/hits?closure={closure}"),
        member_of_site_x(302, 403, 302, 403, 302),
        data=lambda w, r: {"reason": "Wasserschaden"},
    ),
    Case(
        "POST",
        with_closure("/admin/sites/{site}/closures/{closure}/delete"),
        member_of_site_x(302, 403, 302, 403, 302),
    ),
    Case(
        "POST",
        path("/api/v1/closures"),
        member_of_site_x(401, 403, 201, 403, 201),
        json=lambda w, r: {
            "site_id": w.site_x.id,
            "starts_at": w.booking_x[r].occurrences[0].starts_at.isoformat(),
            "ends_at": w.booking_x[r].occurrences[0].ends_at.isoformat(),
            "reason": "Wasserschaden",
        },
        api=True,
    ),
    Case(
        "POST",
        path("/api/v1/sites/{site}/closures/import"),
        member_of_site_x(401, 403, 200, 403, 200),
        data=lambda w, r: MATRIX_ICS,
        api=True,
    ),
    # Room import and site photos (#11).
    Case("GET", path("/admin/import"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        path("/admin/import"),
        member_of_site_x(302, 403, 403, 403, 422),
        data=lambda w, r: {},
    ),
    Case("GET", path("/sites/{site}/photo"), same(404)),
    Case(
        "POST",
        path("/admin/sites/{site}/edit"),
        member_of_site_x(302, 403, 422, 403, 422),
        data=lambda w, r: {
            "name": "Site X",
            "kind": "school",
            "district": "Mitte",
            "timezone": "Europe/Berlin",
            "photo": (io.BytesIO(b"no image"), "photo.jpg"),
        },
    ),
    # KERN UX look (#12).
    Case("GET", path("/favicon.ico"), same(200)),
    # Joining an organisation (#12).
    Case("GET", path("/organisations/{org}/join"), logged_in(302, 200)),
    Case(
        "POST",
        path("/organisations/{org}/join"),
        logged_in(302, 302),
        data=lambda w, r: {"message": "Hallo"},
    ),
    Case(
        "POST",
        with_join_request("/organisations/{org}/join/withdraw", own=True),
        logged_in(302, 302),
    ),
    Case(
        "POST",
        with_join_request("/organisations/{org}/join-requests/{jr}"),
        member_of_site_x(302, 403, 404, 404, 302),
        data=lambda w, r: {"action": "accept"},
    ),
    # Managed equipment list (#11).
    Case("GET", path("/admin/features"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        path("/admin/features"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"label_de": "Beamer mit HDMI", "label_en": "HDMI projector"},
    ),
    Case("GET", the_projector("/admin/features/{key}"), member_of_site_x(302, 403, 403, 403, 200)),
    Case(
        "POST",
        the_projector("/admin/features/{key}"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"label_de": "Beamer", "label_en": "Projector", "position": "5"},
    ),
    Case(
        "POST",
        the_projector("/admin/features/{key}/active"),
        member_of_site_x(302, 403, 403, 403, 302),
        data=lambda w, r: {"active": "0"},
    ),
    # Not losing what people typed, and the language switch (#12).
    Case("GET", path("/my/bookings/{bx}/cancel"), member_of_site_x(302, 200, 200, 404, 200)),
    Case(
        "GET",
        path("/my/bookings/{bx}/cancel?occurrence={ox}"),
        member_of_site_x(302, 200, 200, 404, 200),
    ),
    Case("POST", path("/language"), same(303), data=lambda w, r: {"lang": "en", "next": "/"}),
    # Revocable sessions (#13).
    Case("POST", path("/profile/logout-everywhere"), logged_in(302, 303)),
    # Privacy (#13): one's own data only; a wrong password deletes nothing.
    Case("GET", path("/privacy"), same(200)),
    Case("GET", path("/profile/export"), logged_in(302, 200)),
    Case("GET", path("/profile/delete"), logged_in(302, 200)),
    Case(
        "POST",
        path("/profile/delete"),
        logged_in(302, 422),
        data=lambda w, r: {"password": "not the password"},
    ),
    # Someone else's (or no) login: nothing to end.
    Case("POST", path("/profile/sessions/424242/end"), logged_in(302, 404)),
    # The JSON API.
    Case("GET", path("/api/v1/openapi.json"), same(200), api=True),
    Case("GET", path("/api/v1/sites"), same(200), api=True),
    Case("GET", path("/api/v1/sites/{site}"), same(200), api=True),
    Case("GET", path("/api/v1/rooms"), same(200), api=True),
    Case("GET", path("/api/v1/rooms/{room}"), same(200), api=True),
    Case(
        "GET",
        path("/api/v1/rooms/{room}/availability?start=2030-01-07T08:00&end=2030-01-07T20:00"),
        same(200),
        api=True,
    ),
    Case("GET", path("/api/v1/organisations"), same(200), api=True),
    Case("GET", path("/api/v1/open-offers"), same(200), api=True),
    Case("GET", path("/api/v1/bookings"), logged_in(401, 200), api=True),
    Case("POST", path("/api/v1/bookings"), logged_in(401, 422), json=lambda w, r: {}, api=True),
    Case("GET", path("/api/v1/bookings/{bx}"), member_of_site_x(401, 200, 200, 404, 200), api=True),
    Case(
        "POST",
        path("/api/v1/bookings/{bx}/approve"),
        member_of_site_x(401, 403, 200, 404, 200),
        json=lambda w, r: {},
        api=True,
    ),
    Case(
        "POST",
        path("/api/v1/bookings/{bx}/decline"),
        member_of_site_x(401, 403, 200, 404, 200),
        json=lambda w, r: {"reason": "Belegt"},
        api=True,
    ),
    Case(
        "POST",
        path("/api/v1/bookings/{bx}/cancel"),
        member_of_site_x(401, 200, 200, 404, 200),
        json=lambda w, r: {},
        api=True,
    ),
]


def call(client, case: Case, w: World, role: str):
    url = case.path(w, role)
    headers = {}
    if case.api and role != "anonymous":
        headers["Authorization"] = f"Bearer {w.tokens[role]}"
    kwargs = {"headers": headers}
    if case.data is not None:
        kwargs["data"] = case.data(w, role)
    if case.json is not None:
        kwargs["json"] = case.json(w, role)
    return client.open(url, method=case.method, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_permission_matrix(case: Case, world: World, new_client):
    answers = {}
    for role in ROLES:
        client = new_client()
        if role != "anonymous" and not case.api:
            client.post("/login", data={"email": world.users[role].email, "password": PASSWORD})
        response = call(client, case, world, role)
        answers[role] = response.status_code
        body = response.get_data(as_text=True)
        # Private titles only for those who may see them: nobody sees site Y's but its managers
        # and the parties; site X's likewise.
        if role in ("anonymous", "manager_y"):
            assert SECRET_X not in body, (role, case.id)
        if role in ("anonymous", "manager_x"):
            assert SECRET_Y not in body, (role, case.id)
    assert answers == case.expected


def test_every_route_is_in_the_matrix(app):
    covered = {(c.method, _rule_of(c.path.__doc__)) for c in CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, _normalise(rule.rule)) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert missing == [], "add these routes to the permission matrix"


def _normalise(rule: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "*", rule)


def _rule_of(template: str) -> str:
    import re

    bare = template.split("?")[0]
    bare = re.sub(r"\{[a-z]+\}", "*", bare)
    for fixed in ("not-a-token", "424242"):
        bare = bare.replace(fixed, "*")
    return bare


PASSWORD = "correct horse battery"
