"""In a real browser: a weekly search over the Christmas holidays finds the school's Forum with
the two holiday weeks skipped, and focus moves to the results heading (desktop and phone);
the booking preview of the series says how many other requests wait for each date (#12).

Screenshots of the results and the preview at 360 and 1280 px go to test-artifacts/weekly/."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking.models import ApprovalPolicy
from booking.services import closures, school_calendar
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "weekly"


def next_christmas_holidays(today: date):
    for period in school_calendar.school_holidays():
        if period.reason.startswith("Weihnachtsferien") and period.first_day > today:
            return period
    return None


def in_holidays(day: date) -> bool:
    return any(p.first_day <= day <= p.last_day for p in school_calendar.school_holidays())


@pytest.fixture
def scene(db, make_site, make_room, make_user, make_booking):
    """A school whose holidays are imported from the shipped NRW file, with its Forum; a
    community centre's hall busy now and then; someone else's request for the Forum waiting."""
    today = datetime.now(BERLIN).date()
    christmas = next_christmas_holidays(today)
    if christmas is None or (christmas.last_day - today).days > 300:
        pytest.skip("the shipped school holiday calendar has no Christmas holidays ahead")
    admin = make_user(is_admin=True)
    make_user(email="vera@example.org", name="Vera Volunteer", language="en")
    school = make_site(name="Gesamtschule Seilersee", district="Letmathe")
    forum = make_room(school, name="Forum", capacity=120, approval_policy=ApprovalPolicy.MANUAL)
    db.session.commit()
    closures.import_holidays(admin, school.id, "school")
    db.session.commit()
    centre = make_site(name="Bürgerhaus Hennen", district="Hennen")
    hall = make_room(centre, name="Saal", capacity=80)
    # The Tuesdays the weekly search looks at: from the first on or after today until three
    # weeks after the Christmas holidays.
    first = today + timedelta(days=(1 - today.weekday()) % 7)
    last = christmas.last_day + timedelta(weeks=3)
    tuesdays = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    for tuesday in tuesdays[::7]:  # the hall is busy now and then: free on most dates
        at = datetime(tuesday.year, tuesday.month, tuesday.day, 18, tzinfo=BERLIN)
        make_booking(admin, hall, at, 60)
    rival_day = next(t for t in tuesdays[1:] if not in_holidays(t))
    make_booking(
        make_user(name="Rudi Rival"),
        forum,
        datetime(rival_day.year, rival_day.month, rival_day.day, 18, 30, tzinfo=BERLIN),
        60,
        title="Rudis Kegelabend",
    )
    db.session.commit()
    skipped = sum(1 for t in tuesdays if in_holidays(t))
    assert skipped >= 2
    return {"last": last, "weeks": len(tuesdays), "skipped": skipped, "rival_day": rival_day}


def search(page, scene) -> None:
    page.goto("/")
    page.get_by_label("Every week on a weekday").check()
    page.get_by_label("Weekday", exact=True).select_option("1")
    page.get_by_label("until a date", exact=True).check()
    expect(page.get_by_label("Number of weeks", exact=True)).to_be_hidden()
    page.get_by_label("Last date", exact=True).fill(scene["last"].isoformat())
    expect(page.get_by_label("Skip school holidays and closures")).to_be_checked()
    page.get_by_label("From", exact=True).fill("18:00")
    page.get_by_label("Until", exact=True).fill("20:00")
    page.get_by_role("button", name="Search").click()


def log_in(page) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", "vera@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def test_weekly_search_over_the_christmas_holidays_finds_the_school_room(page, scene, axe):
    search(page, scene)
    heading = page.locator("#results-title")
    expect(heading).to_be_focused()
    assert page.url.endswith("#results-title")
    dates = scene["weeks"] - scene["skipped"]
    card = page.locator("ol.room-list:not(.partial-list) > li", has_text="Forum")
    expect(card).to_contain_text(
        f"free on {dates} of {dates} dates, {scene['skipped']} holiday weeks skipped"
    )
    partial = page.locator("ol.partial-list > li", has_text="Saal")
    expect(partial).to_contain_text(f"of {scene['weeks']} dates")
    assert axe(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "results-1280.png"), full_page=True)

    # Unticked: the strict search, in which the Forum is not free on every date.
    page.get_by_label("Skip school holidays and closures").uncheck()
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-title")).to_be_focused()
    expect(page.locator("ol.room-list:not(.partial-list) > li", has_text="Forum")).to_have_count(0)
    expect(page.locator("ol.partial-list > li", has_text="Forum")).to_contain_text(
        f"free on {dates} of {scene['weeks']} dates"
    )


def test_focus_moves_to_the_results_on_a_phone(phone_page, scene, horizontal_scroll):
    page = phone_page
    search(page, scene)
    heading = page.locator("#results-title")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    assert not horizontal_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "results-360.png"))
    page.screenshot(path=str(SHOTS / "results-360-full.png"), full_page=True)


def test_the_preview_counts_the_requests_waiting(page, scene, axe):
    log_in(page)
    search(page, scene)
    page.locator("ol.room-list:not(.partial-list) > li", has_text="Forum").get_by_role(
        "link", name="Book"
    ).click()
    page.get_by_label("Title", exact=True).fill("Chorprobe")
    page.get_by_role("button", name="Show the dates").click()
    expect(page.locator("#preview-title")).to_be_focused()
    summary = page.locator(".preview-summary")
    expect(summary).to_contain_text("but for 1 of them other requests are waiting")
    day = scene["rival_day"]
    row = page.locator("tr.free", has_text=f"{day.day} {day:%B} {day.year}")
    expect(row).to_contain_text("1 other request is waiting for this time")
    expect(page.locator("tr.skipped").first).to_contain_text("Weihnachtsferien")
    content = page.content()
    assert "Rudi" not in content and "Kegel" not in content
    assert axe(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "preview-1280.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(SHOTS / "preview-360.png"), full_page=True)
