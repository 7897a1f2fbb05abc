"""Nothing typed is lost, in a real browser with CSRF protection on: register from the booking
page and arrive back on the filled form; an expired form comes back filled in; cancelling asks
first. Screenshots of the changed pages go to test-artifacts/keep-input/."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking import domain
from booking.models import ApprovalPolicy
from tests.conftest import PASSWORD
from tests.mails import confirmation_link

BERLIN = ZoneInfo("Europe/Berlin")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "keep-input"
FIRST = date.today() + timedelta(days=21)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def check_axe(page, axe, what: str) -> None:
    violations = axe(page)
    assert violations == [], f"axe on {what}: {violations}"


@pytest.fixture
def room(db, make_site, make_room, make_user):
    site = make_site(name="Bürgerhaus Hennen")
    make_user(email="hausmeister@example.org", manages=[site])
    room = make_room(site, name="Probenraum", approval_policy=ApprovalPolicy.MANUAL)
    db.session.commit()
    return room


def log_in(page, email: str) -> None:
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_register_from_the_booking_page_and_arrive_back_on_the_filled_form(page, room, axe, db):
    page.goto(f"/rooms/{room.id}/book?date={FIRST.isoformat()}&start=18:00&end=20:00&people=14")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_axe(page, axe, "login page with the language switch")
    shoot(page, "login")
    page.get_by_role("main").get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="Register")).to_be_visible()
    # The language switch keeps the page, the way on (next) included, by keyboard alone.
    page.get_by_role("navigation", name="Language").get_by_role("button", name="Deutsch").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Registrieren")).to_be_visible()
    page.get_by_role("navigation", name="Sprache").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Register")).to_be_visible()
    shoot(page, "register")
    page.fill("#email", "rita@example.org")
    page.fill("#name", "Rita Rehearsal")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(confirmation_link(db, "rita@example.org"))
    page.get_by_role("button", name="Confirm and log in").click()

    expect(page.get_by_role("heading", name="Book Probenraum")).to_be_visible()
    assert page.input_value("#date") == FIRST.isoformat()
    assert page.input_value("#start") == "18:00"
    assert page.input_value("#end") == "20:00"
    assert page.input_value("#attendees") == "14"


def test_expired_form_keeps_input(page, room, db, make_user, axe):
    user = make_user(email="ella@example.org", language="en")
    db.session.commit()
    page.goto("/login")
    log_in(page, user.email)
    page.goto(f"/rooms/{room.id}/book")
    page.fill("#date", FIRST.isoformat())
    page.fill("#start", "18:00")
    page.fill("#end", "20:00")
    page.fill("#title", "Choir rehearsal")
    page.fill("#description", "We practise for the summer concert.")

    # The token went stale (a form left open for long): the same form comes back, filled in.
    page.evaluate(
        "document.querySelector('form.booking-form input[name=csrf_token]').value = 'stale'"
    )
    page.get_by_role("button", name="Show the dates").click()
    expect(page.get_by_role("alert")).to_contain_text("The form has expired")
    assert page.input_value("#title") == "Choir rehearsal"
    assert page.input_value("#description") == "We practise for the summer concert."
    assert page.input_value("#date") == FIRST.isoformat()
    check_axe(page, axe, "expired booking form")
    shoot(page, "expired-form")
    page.get_by_role("button", name="Show the dates").click()  # the fresh token works
    expect(page.locator("#dates-preview")).to_be_visible()

    # The session ended (another tab, or too long ago): through the login back to the form.
    page.fill("#title", "Choir rehearsal, second voice")
    page.context.clear_cookies()
    page.get_by_role("button", name="Show the dates").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page, user.email)
    expect(page.get_by_role("heading", name="Book Probenraum")).to_be_visible()
    expect(page.locator(".flashes")).to_contain_text("before logging in")
    assert page.input_value("#title") == "Choir rehearsal, second voice"
    assert page.input_value("#start") == "18:00"
    shoot(page, "after-login-form")


def test_cancel_with_confirmation(page, room, db, make_user, make_booking, axe):
    user = make_user(email="carl@example.org", language="en")
    first = datetime(FIRST.year, FIRST.month, FIRST.day, 18, tzinfo=BERLIN)
    make_booking(
        user,
        room,
        first,
        120,
        title="Choir rehearsal",
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=3),
    )
    db.session.commit()
    page.goto("/login")
    log_in(page, user.email)
    page.goto("/my/bookings")
    booking = page.locator("article.booking", has_text="Choir rehearsal")
    booking.get_by_role("link", name=re.compile(r"^Cancel this date")).first.click()

    expect(page.get_by_role("heading", name="Cancel a date of “Choir rehearsal”?")).to_be_visible()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    expect(page.get_by_text("The managers of Bürgerhaus Hennen are told by e-mail")).to_be_visible()
    expect(page.locator(".date-list li")).to_have_count(1)
    check_axe(page, axe, "cancel confirmation")
    shoot(page, "cancel-one")

    page.get_by_role("link", name="No, keep the booking").click()  # changes nothing
    booking = page.locator("article.booking", has_text="Choir rehearsal")
    expect(booking.locator("span.status-pending")).to_have_count(3)

    booking.get_by_role("link", name=re.compile(r"^Cancel all 3 upcoming dates")).click()
    expect(page.locator(".date-list li")).to_have_count(3)
    shoot(page, "cancel-all")
    # Keyboard alone: the confirming button is reachable and works with Enter.
    page.get_by_role("button", name="Yes, cancel these 3 dates").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text("3 dates are cancelled")
    expect(page.locator(".flashes")).to_contain_text("Cancelled:")
    booking = page.locator("article.booking", has_text="Choir rehearsal")
    expect(booking.locator("span.status-cancelled")).to_have_count(3)
    check_axe(page, axe, "my bookings after cancelling")
    shoot(page, "cancel-result")
