"""A double tap on "Book" in chromium books once and shows the first booking.

The service is slowed down a little (in the live server's thread) so that the second tap
surely arrives while the first request is still being written, as on a slow phone connection.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.models import ApprovalPolicy, Booking
from tests.conftest import PASSWORD


@pytest.fixture
def scene(db, make_room, make_user):
    # Pending requests do not block each other, so only the submission key stops a duplicate.
    room = make_room(name="Probenraum", approval_policy=ApprovalPolicy.MANUAL)
    make_user(email="tapper@example.org", language="en")
    db.session.commit()
    today = date.today()
    return {"room_id": room.id, "day": today + timedelta(days=14 - today.weekday())}


@pytest.fixture
def slow_service(monkeypatch):
    from booking.services import requests as request_service

    write = request_service._write_booking

    def slowly(*args, **kwargs):
        time.sleep(0.4)
        return write(*args, **kwargs)

    monkeypatch.setattr(request_service, "_write_booking", slowly)


def bookings(db) -> list[Booking]:
    db.session.rollback()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def log_in(page) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", "tapper@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def preview(page, scene, title: str):
    """The filled booking form, previewed; returns the "Book" button."""
    page.goto(
        f"/rooms/{scene['room_id']}/book?date={scene['day'].isoformat()}&start=18:00&end=20:00"
    )
    page.fill("#title", title)
    page.get_by_role("button", name="Show the dates").click()
    expect(page.locator("#dates-preview")).to_contain_text("The date is free.")
    return page.get_by_role("button", name="Book this date")


def count_posts(page) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def expect_received(page, booking: Booking) -> None:
    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    assert re.search(rf"/my/bookings/{booking.id}/received$", page.url), page.url


def test_double_click_on_book_makes_one_booking(page, db, scene, slow_service):
    log_in(page)
    book = preview(page, scene, "Choir rehearsal")
    posts = count_posts(page)

    # A real double click: press, release, press, release, with a moment between (the button
    # clicks twice; "delay" is how long each press lasts).
    book.dblclick(delay=40)

    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    assert len(posts) == 2, posts  # the browser really sent the form twice
    (booking,) = bookings(db)
    assert booking.title == "Choir rehearsal"
    expect_received(page, booking)


def test_two_quick_taps_make_one_booking_per_form(page, db, scene, slow_service):
    log_in(page)
    book = preview(page, scene, "Choir rehearsal")
    posts = count_posts(page)
    book.scroll_into_view_if_needed()
    box = book.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.mouse.click(x, y)
    page.wait_for_timeout(50)
    page.mouse.click(x, y)

    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    assert len(posts) == 2, posts
    (booking,) = bookings(db)
    expect_received(page, booking)

    # A newly opened form is a new submission: booking the same again on purpose still works.
    preview(page, scene, "Choir rehearsal").click()
    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    first, second = bookings(db)
    assert (first.id, first.title) == (booking.id, second.title)
    expect_received(page, second)


def test_back_and_book_again_shows_the_first_booking(page, db, scene):
    log_in(page)
    preview(page, scene, "Choir rehearsal").click()
    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    (booking,) = bookings(db)

    page.go_back()  # the preview again, with the form as it was sent
    page.get_by_role("button", name="Book this date").click()

    expect_received(page, booking)
    assert bookings(db) == [booking]
