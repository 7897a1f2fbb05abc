"""Closures (#11) in chromium: a school's manager uploads the NRW school holiday file, sees the
booking in the autumn holidays listed and cancels it with a reason; accessible, and usable at
360 px."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking import domain
from booking.models import ApprovalPolicy, Booking, Occurrence, OccurrenceStatus, OutboxMessage
from booking.services import closures
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCHOOL_ICS = resources.files("booking").joinpath("data", closures.HOLIDAY_FILES["school"])


def test_upload_holidays_and_cancel_the_hit_date(
    page, db, make_site, make_room, make_user, make_organisation, axe, horizontal_scroll
):
    periods = closures.parse_ics_periods(SCHOOL_ICS.read_bytes())
    today = datetime.now(BERLIN).date()
    autumn = next((p for p in periods if "Herbst" in p.reason and p.first_day > today), None)
    if autumn is None:
        pytest.skip("the shipped school holiday file has no autumn holidays ahead any more")
    site = make_site(name="Gesamtschule Iserlohn")
    gym = make_room(site, name="Sporthalle", approval_policy=ApprovalPolicy.AUTOMATIC)
    club = make_organisation(name="TuS Iserlohn")
    trainer = make_user(email="trainer@example.org", organisations=[club])
    make_user(email="sekretariat@example.org", language="en", manages=[site])
    day = autumn.first_day + timedelta(days=3)
    start = domain.from_local(datetime.combine(day, time(18)), BERLIN)
    booking = Booking(
        room=gym, title="Hallenfußball", organisation=club, requested_by=trainer, is_public=False
    )
    booking.occurrences = [
        Occurrence(
            room=gym,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            status=OccurrenceStatus.APPROVED,
        )
    ]
    db.session.add(booking)
    db.session.commit()
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto("/login?lang=en")
    page.fill("#email", "sekretariat@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()

    page.goto("/admin")
    page.get_by_role("link", name="Closures (Gesamtschule Iserlohn)").click()
    expect(page.locator("main h1")).to_have_text("Closures of Gesamtschule Iserlohn")
    assert axe(page) == [], "closures page"

    page.get_by_label("iCalendar file (.ics)").set_input_files(str(SCHOOL_ICS))
    page.get_by_role("button", name="Import the file").click()
    expect(page.locator("main h1")).to_have_text("Booked dates the closures hit")
    expect(page.get_by_text(f"Imported: {len(periods)} new, 0 changed")).to_be_visible()
    item = page.locator(".hit-list li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Hallenfußball")
    expect(item).to_contain_text("TuS Iserlohn")
    expect(item).to_contain_text("Sporthalle")
    expect(item).to_contain_text("approved")
    expect(item).to_contain_text(autumn.reason)
    assert axe(page) == [], "hit dates"
    page.screenshot(path=str(ARTIFACTS / "closure-hits-1280.png"), full_page=True)

    # Without a reason the button refuses, with the message next to the field.
    page.get_by_role("button", name="Cancel the one date").click()
    expect(page.locator("#reason-error")).to_be_visible()
    assert axe(page) == [], "hit dates with an error"

    page.set_viewport_size({"width": 360, "height": 740})
    assert not horizontal_scroll(page), "hit dates at 360 px"
    page.get_by_label("Reason for the requesters").fill("Die Halle ist in den Ferien gesperrt.")
    page.get_by_role("button", name="Cancel the one date").click()
    expect(page).to_have_url(re.compile(rf"/admin/sites/{site.id}/closures$"))
    expect(page.get_by_text("1 date is cancelled")).to_be_visible()
    assert not horizontal_scroll(page), "closures page at 360 px"
    assert axe(page) == [], "closures page at 360 px"
    page.screenshot(path=str(ARTIFACTS / "closures-360.png"), full_page=True)

    db.session.expire_all()
    occurrence = db.session.scalars(select(Occurrence).where(Occurrence.booking_id == booking.id))
    [date_row] = occurrence.all()
    assert date_row.status is OccurrenceStatus.CANCELLED
    assert date_row.status_reason == "Die Halle ist in den Ferien gesperrt."
    assert db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.subject.contains("Hallenfußball"))
    ).all() == ["trainer@example.org"]
