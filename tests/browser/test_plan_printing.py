"""The printable plans (#11) in chromium: accessible on screen and in print, navigation left
off the paper, A4 landscape for the week plan and portrait for the day plan and door sign."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from booking import domain
from booking.models import Booking, Occurrence, OccurrenceStatus
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
A4 = (595, 842)  # points, portrait


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return domain.from_local(datetime(day.year, day.month, day.day, hh, mm), BERLIN)


def pdf_page_sizes(pdf: bytes) -> set[tuple[int, int]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return {(round(float(w)), round(float(h))) for w, h in boxes}


def test_week_plan_prints_without_navigation(
    page, db, make_site, make_room, make_user, make_organisation, axe
):
    site = make_site(name="Bürgerhaus Nord", street="Am Markt 1")
    hall = make_room(site, name="Große Halle", buffer_before_minutes=30, buffer_after_minutes=15)
    room = make_room(site, name="Gruppenraum 2")
    make_room(site, name="Werkraum")
    choir = make_organisation(name="Kammerchor Iserlohn")
    singer = make_user(name="Sabine Sänger", email="sabine@example.org", organisations=[choir])
    make_user(email="hausmeister@example.org", language="en", manages=[site])
    monday = date(2026, 10, 19)
    dates = [
        (hall, monday, 18, 20, "Chorprobe (privat)", False, 24),
        (room, monday, 9, 11, "Deutschkurs für Anfängerinnen und Anfänger", True, 12),
        (hall, monday + timedelta(days=2), 17, 21, "Elternabend", True, 80),
        (room, monday + timedelta(days=4), 15, 16, "Sprechstunde Quartiersmanagement", True, None),
        (hall, monday + timedelta(days=6), 2, 3, "Nachtprobe über die Zeitumstellung", False, 8),
    ]
    for where, day, start, end, title, public, attendees in dates:
        booking = Booking(
            room=where,
            title=title,
            is_public=public,
            attendees=attendees,
            organisation=choir,
            requested_by=singer,
        )
        booking.occurrences = [
            Occurrence(
                room=where,
                starts_at=at(day, start),
                ends_at=at(day, end),
                status=OccurrenceStatus.APPROVED,
            )
        ]
        db.session.add(booking)
    db.session.commit()
    ARTIFACTS.mkdir(exist_ok=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login?lang=en")
    page.fill("#email", "hausmeister@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()

    week = f"/manage/sites/{site.id}/plan?date=2026-10-21&view=week"
    page.goto(week)
    expect(page.locator("main h1")).to_contain_text("Week plan: Bürgerhaus Nord")
    expect(page.get_by_text("Chorprobe (privat)")).to_be_visible()
    assert axe(page) == [], "week plan on screen"
    page.screenshot(path=str(ARTIFACTS / "door-plans-week-1280.png"), full_page=True)

    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.locator(".main-nav").is_hidden()
    assert page.locator(".site-footer").is_hidden()
    assert page.locator(".plan-form").is_hidden()
    expect(page.get_by_text("Chorprobe (privat)")).to_be_visible()
    assert axe(page) == [], "week plan in print"
    page.screenshot(path=str(ARTIFACTS / "door-plans-week-print-1280.png"), full_page=True)
    assert pdf_page_sizes(page.pdf(prefer_css_page_size=True)) == {A4[::-1]}  # landscape

    page.goto(f"/manage/sites/{site.id}/plan?date=2026-10-19&view=day")
    assert pdf_page_sizes(page.pdf(prefer_css_page_size=True)) == {A4}
    page.emulate_media(media="screen")
    assert axe(page) == [], "day plan"
    page.screenshot(path=str(ARTIFACTS / "door-plans-day-1280.png"), full_page=True)

    # The day/week switch works without JavaScript: a plain GET form.
    page.get_by_label("Week").check()
    page.get_by_role("button", name="Show plan").click()
    expect(page).to_have_url(re.compile(r"view=week"))
    expect(page.locator("main h1")).to_contain_text("Week plan")

    page.goto(f"/manage/rooms/{hall.id}/door-sign?date=2026-10-19")
    expect(page.locator("main h1")).to_contain_text("Große Halle")
    assert axe(page) == [], "door sign"
    page.emulate_media(media="print")
    assert pdf_page_sizes(page.pdf(prefer_css_page_size=True)) == {A4}
    page.screenshot(path=str(ARTIFACTS / "door-sign-print-1280.png"), full_page=True)

    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(week)
    assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
    assert axe(page) == [], "week plan at 360 px"
    page.screenshot(path=str(ARTIFACTS / "door-plans-week-360.png"), full_page=True)
