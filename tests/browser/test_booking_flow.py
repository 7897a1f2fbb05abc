"""The whole way in a real browser: register, search, preview a weekly series with one taken
date, book the free dates, find them pending in My bookings; then again by keyboard alone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking.models import ApprovalPolicy
from tests.mails import confirmation_link

BERLIN = ZoneInfo("Europe/Berlin")
# Screenshots anyone can look at after a run (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "booking-flow"


@pytest.fixture
def scene(db, make_site, make_room, make_user, make_booking):
    """A manual-approval room whose second Tuesday of the series is already taken."""
    site = make_site(name="Bürgerhaus Hennen", district="Hennen")
    room = make_room(
        site,
        name="Probenraum",
        capacity=25,
        features=["piano"],
        step_free=True,
        approval_policy=ApprovalPolicy.MANUAL,
        house_rules="Please put the chairs back.",
    )
    make_room(site, name="Saal", capacity=120)
    today = date.today()
    first = today + timedelta(days=(1 - today.weekday()) % 7 + 14)  # a Tuesday, 2-3 weeks ahead
    taken = first + timedelta(weeks=1)
    make_booking(
        make_user(is_admin=True),
        room,
        datetime(taken.year, taken.month, taken.day, 18, 30, tzinfo=BERLIN),
        60,
    )
    db.session.commit()
    return {"room": room, "first": first, "room_id": room.id}


def check_axe(page, axe, what: str) -> None:
    violations = axe(page)
    assert violations == [], f"axe on {what}: {violations}"


def shoot(page, name: str) -> None:
    """Screenshots of the page at 360 and 1280 px into test-artifacts/; at 360 px nothing may
    scroll sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        if width == 360:
            assert not page.evaluate(
                "() => document.documentElement.scrollWidth > window.innerWidth + 1"
            ), f"{name} scrolls sideways at 360 px"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def test_register_search_preview_book_and_see_it_pending(page, scene, axe, db):
    first = scene["first"]
    page.goto("/register?lang=en")
    page.fill("#email", "rita@example.org")
    page.fill("#name", "Rita Rehearsal")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.select_option("#language", "en")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    check_axe(page, axe, "registration sent")
    shoot(page, "registration-sent")
    page.goto(confirmation_link(db, "rita@example.org"))
    expect(page.get_by_role("heading", name="Confirm your address")).to_be_visible()
    check_axe(page, axe, "confirm address")
    page.get_by_role("button", name="Confirm and log in").click()
    expect(page.get_by_role("heading", name="Find a free room")).to_be_visible()
    check_axe(page, axe, "home")
    shoot(page, "home")

    page.fill("#date", first.isoformat())
    page.fill("#start", "18:00")
    page.fill("#end", "20:00")
    page.fill("#people", "12")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-title")).to_contain_text("free room")
    check_axe(page, axe, "search results")
    shoot(page, "results")

    page.get_by_role("link", name=re.compile(r"^Book Probenraum")).click()
    expect(page.get_by_role("heading", name="Book Probenraum")).to_be_visible()
    assert page.input_value("#date") == first.isoformat()
    assert page.input_value("#attendees") == "12"
    check_axe(page, axe, "booking form")
    shoot(page, "booking-form")

    page.fill("#title", "Choir rehearsal")
    page.get_by_label("Every week", exact=True).check()
    page.get_by_label("after a number of dates").check()
    page.fill("#count", "4")
    page.get_by_label("I have read the house rules").check()
    page.get_by_role("button", name="Show the dates").click()

    preview = page.locator("#dates-preview")
    expect(preview.locator("tr.blocked")).to_have_count(1)
    expect(preview.locator("tr.free")).to_have_count(3)
    expect(preview.locator("tr.blocked")).to_contain_text("Already booked at this time")
    check_axe(page, axe, "booking preview")
    shoot(page, "preview")

    page.get_by_label("book only the free dates").check()
    page.get_by_role("button", name="Book the 3 free dates").click()
    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("waiting for approval")

    page.get_by_role("link", name="Go to my bookings").click()
    booking = page.locator("article.booking", has_text="Choir rehearsal")
    expect(booking.locator("tbody tr")).to_have_count(3)
    expect(booking.locator("span.status-pending")).to_have_count(3)
    check_axe(page, axe, "my bookings")
    shoot(page, "my-bookings")

    # Cancelling one date asks first, then goes through the real CSRF-protected form.
    booking.get_by_role("link", name=re.compile(r"^Cancel this date")).first.click()
    page.get_by_role("button", name="Yes, cancel the date").click()
    expect(page.locator(".flashes")).to_contain_text("was cancelled")
    booking = page.locator("article.booking", has_text="Choir rehearsal")
    expect(booking.locator("span.status-pending")).to_have_count(2)
    expect(booking.locator("span.status-cancelled")).to_have_count(1)

    page.goto(f"/rooms/{scene['room_id']}")
    expect(page.get_by_role("heading", name="Probenraum", exact=True)).to_be_visible()
    check_axe(page, axe, "room page")


def tab_to(page, selector: str, limit: int = 200) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_same_flow_with_the_keyboard_alone(page, scene, db):
    first = scene["first"]
    page.goto("/register?lang=en")
    tab_to(page, "#email")
    page.keyboard.type("kim@example.org")
    tab_to(page, "#name")
    page.keyboard.type("Kim Keyboard")
    tab_to(page, "#password")
    page.keyboard.type("another long password")
    tab_to(page, "#confirm")
    page.keyboard.type("another long password")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(confirmation_link(db, "kim@example.org"))
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Find a free room")).to_be_visible()

    tab_to(page, "#date")
    page.keyboard.type(first.strftime("%m%d%Y"))  # en-US: mm/dd/yyyy
    tab_to(page, "#start")
    page.keyboard.type("0600P")  # en-US: 06:00 PM
    tab_to(page, "#end")
    page.keyboard.type("0800P")
    tab_to(page, "#people")
    page.keyboard.type("12")
    tab_to(page, ".search-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#results-title")).to_be_visible()

    tab_to(page, f".results a[href^='/rooms/{scene['room_id']}/book']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Book Probenraum")).to_be_visible()

    tab_to(page, "#title")
    page.keyboard.type("Keyboard choir")
    tab_to(page, "input[name=repeat]")
    page.keyboard.press("ArrowDown")  # from "Only once" to "Every week"
    assert page.is_checked("input[name=repeat][value=weekly]")
    tab_to(page, "input[name=limit]")
    page.keyboard.press("ArrowDown")  # "after a number of dates"
    tab_to(page, "#count")
    page.keyboard.type("4")
    tab_to(page, "#house_rules_accepted")
    page.keyboard.press("Space")
    tab_to(page, "input[name=preview]")
    page.keyboard.press("Enter")

    expect(page.locator("#dates-preview tr.blocked")).to_have_count(1)
    tab_to(page, "#book_free_dates_only")
    page.keyboard.press("Space")
    tab_to(page, "input[name=book]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()

    tab_to(page, "a[href^='/my/bookings']")
    page.keyboard.press("Enter")
    booking = page.locator("article.booking", has_text="Keyboard choir")
    expect(booking.locator("span.status-pending")).to_have_count(3)


def test_focus_is_visible(page, scene):
    page.goto("/?lang=en")
    tab_to(page, "#date")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
