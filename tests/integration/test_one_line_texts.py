"""The services refuse control characters in one-line texts, whichever surface calls them (the
web forms and the API check first; the CLI and imports have only this check)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.services import accounts, organisations, places
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import InvalidRequest

INJECTION = "Chorprobe\rBcc: x@evil.example"


def refused_field(call) -> str:
    with pytest.raises(InvalidRequest) as refused:
        call()
    assert refused.value.code == "control_characters"
    return refused.value.field


def test_a_booking_title_is_one_line(db, make_user, make_room):
    user, room = make_user(), make_room()
    command = BookingCommand(
        room_id=room.id,
        title=INJECTION,
        start=datetime(2026, 9, 15, 16, tzinfo=UTC),
        end=datetime(2026, 9, 15, 18, tzinfo=UTC),
        house_rules_accepted=True,
    )
    now = datetime(2026, 9, 1, tzinfo=UTC)
    assert refused_field(lambda: request_booking(user, command, now=now)) == "title"


def test_names_of_organisations_people_sites_and_rooms_are_one_line(db, make_user, make_site):
    admin = make_user(is_admin=True)
    club = organisations.OrganisationCommand(name="Chor\nHennen", kind="association")
    assert refused_field(lambda: organisations.create_organisation(admin, club)) == "name"
    assert refused_field(lambda: accounts.update_profile(admin, name=INJECTION, language="de")) == (
        "name"
    )
    new_user = dict(email="neu@example.org", name="Neu\tUser", password="Kirschbaum im Hof 7")
    assert refused_field(lambda: accounts.upsert_user(**new_user)) == "name"
    site = places.SiteCommand(name="Markt", kind="square", district="Mitte", contact_phone="1\n2")
    assert refused_field(lambda: places.create_site(admin, site)) == "contact_phone"
    room = places.RoomCommand(name="Halle\r1", capacity=10)
    assert refused_field(lambda: places.create_room(admin, make_site().id, room)) == "name"


def test_descriptions_keep_their_lines(db, make_user):
    admin = make_user(is_admin=True)
    site = places.SiteCommand(
        name="Markt", kind="square", district="Mitte", description="Zeile 1\r\n\tZeile 2"
    )
    assert places.create_site(admin, site).description == "Zeile 1\r\n\tZeile 2"
