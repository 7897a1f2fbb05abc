"""The history pages (#11) in chromium: no serious or critical axe-core violation, nothing
scrolls sideways at 360 px, and the administrator's filters work by keyboard."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from booking.models import ApprovalPolicy
from booking.services import decisions, places
from tests.conftest import PASSWORD

START = (datetime.now(UTC) + timedelta(days=12)).replace(hour=15, minute=0, second=0, microsecond=0)


def _world(db, make_site, make_room, make_user, make_organisation, make_booking):
    site = make_site(name="Realschule Nord")
    room = make_room(site, name="Aula", capacity=30, approval_policy=ApprovalPolicy.MANUAL)
    club = make_organisation(name="Chor Iserlohn")
    member = make_user(organisations=[club])
    manager = make_user(email="hausmeisterin@example.org", manages=[site], language="en")
    make_user(email="admin@example.org", is_admin=True, language="en")
    booking = make_booking(member, room, START, title="Chorprobe", organisation_id=club.id)
    decisions.approve(manager, booking.id, comment="Schlüssel beim Hausmeister")
    places.update_room(
        manager, room.id, dataclasses.replace(places.room_command(room), capacity=12)
    )
    places.set_opening_hours(manager, site.id, None, [(0, 960, 1320), (5, 540, 1080)])
    db.session.commit()
    return site, room, booking


def _log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def test_history_pages_are_accessible(
    page, db, make_site, make_room, make_user, make_organisation, make_booking, axe
):
    site, _room, _booking = _world(
        db, make_site, make_room, make_user, make_organisation, make_booking
    )
    _log_in(page, "hausmeisterin@example.org")
    page.goto("/manage/bookings")
    page.get_by_role("link", name="History (Chorprobe)").click()
    expect(page.locator("main h1")).to_have_text("History of “Chorprobe”")
    assert axe(page) == [], "booking history"
    page.goto("/admin")
    page.get_by_role("link", name="History (Aula)").click()
    expect(page.locator("main")).to_contain_text("Capacity")
    assert axe(page) == [], "room history"
    page.goto(f"/admin/sites/{site.id}/history")
    expect(page.locator("main")).to_contain_text("Opening hours set")
    assert axe(page) == [], "site history"


def test_the_admin_filters_by_keyboard(
    page, db, make_site, make_room, make_user, make_organisation, make_booking, axe
):
    _world(db, make_site, make_room, make_user, make_organisation, make_booking)
    _log_in(page, "admin@example.org")
    page.goto("/admin")
    page.get_by_role("link", name="History of all changes").click()
    assert axe(page) == [], "all changes"
    page.get_by_label("What").select_option(label="Room changed")
    page.get_by_label("From").fill("2026-05-02")
    page.get_by_label("Until").fill("2026-05-01")
    page.get_by_label("Until").press("Enter")
    expect(page.locator("#until-error")).to_contain_text("The end must not be before the start.")
    assert axe(page) == [], "all changes with an error"
    page.get_by_label("Until").fill("")
    page.get_by_label("From").fill("")
    page.get_by_label("Changed by (e-mail)").fill("hausmeisterin@example.org")
    page.get_by_label("Changed by (e-mail)").press("Enter")
    expect(page.locator("main ol.history > li")).to_have_count(1)
    expect(page.locator("main ol.history")).to_contain_text("Room changed")


def test_history_fits_a_phone(
    phone_page,
    db,
    make_site,
    make_room,
    make_user,
    make_organisation,
    make_booking,
    horizontal_scroll,
):
    site, room, booking = _world(
        db, make_site, make_room, make_user, make_organisation, make_booking
    )
    _log_in(phone_page, "admin@example.org")
    for path in (
        f"/manage/bookings/{booking.id}/history",
        f"/admin/rooms/{room.id}/history",
        f"/admin/sites/{site.id}/history",
        "/admin/audit",
    ):
        phone_page.goto(path)
        expect(phone_page.locator("main h1")).to_be_visible()
        assert not horizontal_scroll(phone_page), path
