"""On a 360-pixel-wide phone every page fits: no sideways scrolling, and axe stays quiet."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from booking import domain
from booking.models import ApprovalPolicy
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")


def test_pages_fit_a_360_pixel_screen(
    phone_page, db, make_site, make_room, make_user, make_booking, axe, horizontal_scroll
):
    page = phone_page
    site = make_site(
        name="Gesamtschule Seilersee mit einem sehr langen Namen", district="Iserlohn-Ost"
    )
    room = make_room(
        site,
        name="Mehrzweckraum im Erdgeschoss",
        features=["projector", "whiteboard", "tables_chairs", "wifi"],
        approval_policy=ApprovalPolicy.MANUAL,
        house_rules="Schlüssel beim Hausmeister abholen. Bitte lüften.",
        hours=[(d, 8 * 60, 22 * 60) for d in range(7)],
    )
    user = make_user(language="en", email="phone@example.org")
    day = date.today() + timedelta(days=10)
    make_booking(
        user,
        room,
        datetime(day.year, day.month, day.day, 18, tzinfo=BERLIN),
        90,
        title="Hausaufgabenhilfe für die Klassen fünf bis sieben",
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=3),
    )
    db.session.commit()

    page.goto("/login?lang=en")
    page.fill("#email", "phone@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()

    search = (
        f"/?mode=date&date={(day + timedelta(days=1)).isoformat()}&start=18:00&end=20:00&people=10"
    )
    pages = {
        "home": "/",
        "search results": search,
        "room": f"/rooms/{room.id}",
        "booking form": f"/rooms/{room.id}/book",
        "my bookings": "/my/bookings",
        "open offers": "/offers",
        "site": f"/sites/{site.id}",
    }
    for name, url in pages.items():
        page.goto(url)
        assert not horizontal_scroll(page), f"{name} scrolls sideways at 360 px"
        assert axe(page) == [], name

    page.goto(f"/rooms/{room.id}/book")
    page.fill("#date", (day + timedelta(days=7)).isoformat())
    page.fill("#start", "17:00")
    page.fill("#end", "19:00")
    page.fill("#title", "Preview on a phone")
    page.get_by_role("button", name="Show the dates").click()
    expect(page.locator("#dates-preview")).to_be_visible()
    assert not horizontal_scroll(page), "the preview scrolls sideways at 360 px"
    assert axe(page) == [], "preview"
