"""The facility office (#11) in chromium, as its users do it: an administrator builds a site with
a divisible hall, a manager fills in school hours, approves one of two competing requests (the
rival is declined and mailed) and moves a weekly series by keyboard alone.

Every page on the way is checked the same way: no serious or critical axe-core violation, no
sideways scrolling at 360 px with the primary buttons on screen. The administration pages are
photographed at 360 and 1280 px into /tmp/shots/ for a human to look at.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking import domain
from booking.models import ApprovalPolicy, Room, Site
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
SHOTS = Path("/tmp/shots")
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def weekday_ahead(weekday: int, weeks: int = 2) -> date:
    """A date on ``weekday`` (Monday 0) at least ``weeks`` weeks from today."""
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN)


@pytest.fixture
def open_page(browser, live_server, db):
    """Another browser (its own cookies) for a second person in the same test."""
    contexts = []

    def open_():
        context = browser.new_context(
            base_url=live_server, locale="en-US", timezone_id="Europe/Berlin", viewport=WIDE
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()
    db.session.commit()


def log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def check_page(
    page, axe, name: str, *, shots: bool = False, buttons: str | None = "main .primary"
) -> None:
    """axe stays quiet, and at 360 px nothing scrolls sideways and every main action is on
    screen (``buttons``: the page's main actions, if it has any); the viewport is put back."""
    violations = axe(page)
    assert violations == [], f"axe on {name}: {violations}"
    before = page.viewport_size
    if shots:
        SHOTS.mkdir(exist_ok=True)
        page.set_viewport_size(WIDE)
        page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide at 360 px"
    actions = page.locator(buttons or "main .primary")
    assert actions.count() > 0 or buttons is None, f"{name} has no {buttons}"
    for button in actions.all():
        box = button.bounding_box()
        assert box is not None and button.is_visible(), f"{name}: a main action is hidden"
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"{name}: a main action sticks out at 360 px: {box}"
        )
    if shots:
        page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
    page.set_viewport_size(before)


def tab_to(page, selector: str, limit: int = 200) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


# -- 1. A divisible hall -------------------------------------------------------------------------


def test_admin_creates_a_site_with_a_divisible_hall_and_the_whole_blocks_its_parts(
    page, open_page, db, make_user, make_organisation, axe
):
    make_user(email="admin@example.org", name="Ada Admin", is_admin=True, language="en")
    club = make_organisation(name="SV Seilersee")
    make_user(email="kicker@example.org", name="Kim Kicker", organisations=[club], language="en")
    db.session.commit()
    page.set_viewport_size(WIDE)

    log_in(page, "admin@example.org")
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Sites and rooms", level=1)).to_be_visible()
    page.get_by_role("link", name="New site").click()
    expect(page.get_by_role("heading", name="New site", level=1)).to_be_visible()
    check_page(page, axe, "admin-new-site", shots=True)

    page.fill("#name", "Gesamtschule Seilersee")
    page.select_option("#kind", label="School")
    page.fill("#district", "Iserlohn-Ost")
    page.fill("#street", "Am Seilersee 2")
    page.fill("#postcode", "58636")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".flashes")).to_contain_text("Gesamtschule Seilersee is created")

    def new_room(name: str, capacity: int, parent: str | None = None) -> None:
        page.get_by_role("link", name="New room (Gesamtschule Seilersee)").click()
        expect(page.locator("main h1")).to_have_text("New room at Gesamtschule Seilersee")
        if name == "Dreifachhalle":
            check_page(page, axe, "admin-new-room", shots=True)
        page.fill("#name", name)
        if parent:
            page.get_by_label("Part of").select_option(label=parent)
        page.fill("#capacity", str(capacity))
        page.get_by_label("Approval").select_option(label="Approved automatically when free")
        page.get_by_role("button", name="Create").click()
        expect(page.locator(".flashes")).to_contain_text(f"The room {name} is created")

    new_room("Dreifachhalle", 300)
    new_room("Hallenteil 1", 100, parent="Dreifachhalle")
    new_room("Hallenteil 2", 100, parent="Dreifachhalle")

    site_card = page.locator("section.card", has_text="Gesamtschule Seilersee")
    # The parts are listed inside the whole's entry, each naming its whole.
    rooms = site_card.locator("li")
    expect(rooms).to_have_count(3)
    whole = site_card.locator("> ul > li")
    expect(whole).to_have_count(1)
    expect(whole.get_by_role("link", name="Dreifachhalle", exact=True)).to_be_visible()
    parts = whole.locator("ul > li")
    expect(parts).to_have_count(2)
    for part in ("Hallenteil 1", "Hallenteil 2"):
        item = parts.filter(has=page.get_by_role("link", name=part, exact=True))
        expect(item).to_contain_text("part of Dreifachhalle")
    check_page(page, axe, "admin-index", shots=True)

    # The edit form knows the part's whole.
    site_card.get_by_role("link", name="Hallenteil 1", exact=True).click()
    expect(page.locator("main h1")).to_have_text("Edit Hallenteil 1")
    assert page.get_by_label("Part of").locator("option:checked").inner_text() == "Dreifachhalle"
    check_page(page, axe, "admin-edit-room", shots=True)

    db.session.rollback()
    site = db.session.scalar(select(Site).where(Site.name == "Gesamtschule Seilersee"))
    ids = {r.name: r.id for r in db.session.scalars(select(Room).where(Room.site_id == site.id))}
    db.session.commit()

    # The public page of the whole names its parts.
    member = open_page()
    log_in(member, "kicker@example.org")
    member.goto(f"/rooms/{ids['Dreifachhalle']}")
    split = member.locator("dt", has_text="Can be split into").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(split).to_have_text("Hallenteil 1, Hallenteil 2")

    # A member books the whole hall ...
    day = weekday_ahead(2)  # a Wednesday
    member.get_by_role("link", name="Book this room").click()
    member.fill("#date", day.isoformat())
    member.fill("#start", "18:00")
    member.fill("#end", "20:00")
    member.fill("#title", "Hallenfußball")
    member.get_by_role("button", name="Show the dates").click()
    expect(member.locator("#dates-preview tr.free")).to_have_count(1)
    member.get_by_role("button", name="Book this date").click()
    expect(member.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()

    # ... and a part is taken at that time: its week shows it, its booking form refuses it.
    part = ids["Hallenteil 2"]
    member.goto(f"/rooms/{part}?week={day.isocalendar().year}-W{day.isocalendar().week:02d}")
    wednesday = member.locator("li.day", has_text=day.strftime("%-d %b"))
    expect(wednesday.locator("li.slot.busy")).to_contain_text("18:00")
    check_page(member, axe, "room page of a part")
    member.goto(f"/rooms/{part}/book?date={day.isoformat()}&start=18:30&end=19:30")
    member.fill("#title", "Tischtennis")
    member.get_by_role("button", name="Show the dates").click()
    blocked = member.locator("#dates-preview tr.blocked")
    expect(blocked).to_have_count(1)
    expect(blocked).to_contain_text("Already booked at this time")
    check_page(member, axe, "booking preview of a part")


# -- 2. Opening hours ----------------------------------------------------------------------------


def test_manager_fills_in_school_hours_and_a_request_outside_them_is_refused(
    page, open_page, db, make_site, make_room, make_user, axe
):
    site = make_site(name="Grundschule Hennen", district="Hennen")
    room = make_room(site, name="Turnhalle", approval_policy=ApprovalPolicy.MANUAL)
    make_user(email="sekretariat@example.org", manages=[site], language="en")
    make_user(email="verein@example.org", language="en")
    db.session.commit()
    page.set_viewport_size(WIDE)

    log_in(page, "sekretariat@example.org")
    page.goto("/admin")
    page.get_by_role("link", name="Opening hours (Grundschule Hennen)").click()
    expect(page.locator("main h1")).to_have_text("Opening hours of Grundschule Hennen")
    assert page.input_value("#day0") == ""
    check_page(page, axe, "admin-opening-hours", shots=True)

    # By keyboard: the fill-in button, then (after checking the times) Save.
    tab_to(page, "button[name=school]")
    assert page.evaluate("document.activeElement.textContent").startswith("Fill in school hours")
    page.keyboard.press("Enter")
    expect(page.locator("#day0")).to_have_value("16:00")
    for day in range(5):
        assert page.input_value(f"#day{day}") == "16:00"
        assert page.input_value(f"#day{day}_until") == "22:00"
    assert page.input_value("#day5") == "09:00"
    assert page.input_value("#day5_until") == "18:00"
    assert page.input_value("#day6") == ""
    sunday = page.locator("fieldset", has=page.locator("legend", has_text="Sunday"))
    expect(sunday.locator("legend")).to_contain_text("closed all day")
    check_page(page, axe, "admin-opening-hours-filled", shots=True)

    tab_to(page, "button[name=save]")
    page.keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text("The opening hours are saved.")

    # The result: the form shows the saved week, the public site page the hours.
    page.goto(f"/admin/sites/{site.id}/opening-hours")
    assert page.input_value("#day2") == "16:00"
    assert page.input_value("#day5_until") == "18:00"
    page.goto(f"/sites/{site.id}")
    hours = page.locator("table.hours")
    expect(hours.locator("tr", has_text="Monday")).to_contain_text("16:00–22:00")
    expect(hours.locator("tr", has_text="Sunday")).to_contain_text(re.compile("closed", re.I))
    check_page(page, axe, "site page", buttons=None)

    # A Monday morning is outside the hours, the evening inside.
    member = open_page()
    log_in(member, "verein@example.org")
    monday = weekday_ahead(0)
    member.goto(f"/rooms/{room.id}/book?date={monday.isoformat()}&start=10:00&end=12:00")
    member.fill("#title", "Eltern-Kind-Turnen")
    member.get_by_role("button", name="Show the dates").click()
    blocked = member.locator("#dates-preview tr.blocked")
    expect(blocked).to_have_count(1)
    expect(blocked).to_contain_text("Outside the opening hours")
    check_page(member, axe, "booking preview outside the hours")
    member.fill("#start", "17:00")
    member.fill("#end", "19:00")
    member.get_by_role("button", name=re.compile(r"^Show the dates")).click()
    expect(member.locator("#dates-preview tr.free")).to_have_count(1)


# -- 3. A contested request ----------------------------------------------------------------------


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_approving_a_contested_request_declines_and_mails_the_rival(
    page, db, app, smtp, make_site, make_room, make_user, make_organisation, make_booking, axe
):
    site = make_site(name="Bürgerhaus Letmathe", district="Letmathe")
    room = make_room(site, name="Saal", approval_policy=ApprovalPolicy.MANUAL)
    make_user(email="hausmeister@example.org", manages=[site], language="en")
    choir, band = make_organisation(name="Kammerchor"), make_organisation(name="Bigband")
    singer = make_user(email="singer@example.org", organisations=[choir], language="en")
    player = make_user(email="player@example.org", organisations=[band], language="en")
    day = weekday_ahead(3)  # a Thursday
    wanted = make_booking(
        singer, room, at(day, 19), 120, title="Chorprobe", organisation_id=choir.id
    )
    rival = make_booking(player, room, at(day, 20), 90, title="Bandprobe", organisation_id=band.id)
    db.session.commit()
    wanted_id, rival_id = wanted.id, rival.id
    app.test_cli_runner().invoke(args=["send-mail"])  # the "request received" mails
    smtp.messages.clear()
    page.set_viewport_size(WIDE)

    log_in(page, "hausmeister@example.org")
    page.goto("/manage/requests")
    request = page.locator(f"#request-{wanted_id}")
    expect(request).to_contain_text("Also requested by Bigband: “Bandprobe”")
    expect(page.locator(f"#request-{rival_id}")).to_contain_text("Kammerchor")
    check_page(page, axe, "manage-requests", shots=True)

    # By keyboard: edit the prepared reason, then approve.
    reason = request.get_by_label("Reason for the other requesters")
    expect(reason).to_have_value("Another group was given this time.")
    tab_to(page, f"#rival-reason-{wanted_id}")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("The choir has this Thursday; the hall is free on Friday evening.")
    tab_to(page, f"#request-{wanted_id} button[value=approve]")
    assert page.evaluate("document.activeElement.textContent") == (
        "Approve chosen dates and decline the competing ones"
    )
    page.keyboard.press("Enter")
    flashes = page.locator(".flashes")
    expect(flashes).to_contain_text("Approved 1 date.")
    expect(flashes).to_contain_text("Declined 1 competing date; its requester is told.")
    expect(page.locator("article.booking")).to_have_count(0)
    expect(page.get_by_text("No requests are waiting. Thank you!")).to_be_visible()
    check_page(page, axe, "manage-requests-answered", buttons=None)

    page.goto("/manage/bookings")
    expect(page.locator("article.booking")).to_have_count(1)
    expect(page.locator("article.booking")).to_contain_text("Chorprobe")

    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    [declined] = smtp.to("player@example.org")
    assert "Bandprobe" in declined["Subject"]
    body = _body(declined)
    assert "The choir has this Thursday; the hall is free on Friday evening." in body
    assert "Saal" in body
    [approved] = smtp.to("singer@example.org")
    assert "Chorprobe" in approved["Subject"]
    assert "The choir has this Thursday" not in _body(approved)


# -- 4. A series moves, by keyboard alone --------------------------------------------------------


def test_manager_changes_a_weekly_series_by_keyboard(
    page, open_page, db, make_site, make_room, make_user, make_organisation, make_booking, axe
):
    site = make_site(name="Jugendzentrum Karnacksweg", district="Innenstadt")
    room = make_room(site, name="Werkstatt", approval_policy=ApprovalPolicy.AUTOMATIC)
    make_user(email="leitung@example.org", manages=[site], language="en")
    club = make_organisation(name="Repair-Café")
    fixer = make_user(email="fixer@example.org", organisations=[club], language="en")
    first = weekday_ahead(1, weeks=1)  # a Tuesday
    booking = make_booking(
        fixer,
        room,
        at(first, 17),
        90,
        title="Repair-Café",
        organisation_id=club.id,
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=4),
    )
    db.session.commit()
    booking_id = booking.id

    page.set_viewport_size(WIDE)
    page.goto("/login?lang=en")
    tab_to(page, "#email")
    page.keyboard.type("leitung@example.org")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))

    page.goto("/manage/bookings")
    article = page.locator(f"#booking-{booking_id}")
    expect(article.locator("tbody tr")).to_have_count(4)
    expect(article).to_contain_text("17:00–18:30")
    check_page(page, axe, "manage-bookings", shots=True, buttons="main article .button")

    tab_to(page, f"a[href^='/manage/bookings/{booking_id}/series']")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Change the upcoming dates of “Repair-Café”")
    assert page.input_value("#day") == first.isoformat()
    check_page(page, axe, "manage-series", shots=True)

    tab_to(page, "#start")
    page.keyboard.type("0700P")  # en-US: 07:00 PM
    tab_to(page, "#end")
    page.keyboard.type("0830P")
    tab_to(page, "#reason")
    page.keyboard.type("The workshop is used for a course until 7 pm.")
    tab_to(page, "input[name=preview]")
    page.keyboard.press("Enter")

    preview = page.locator("#dates-preview")
    expect(preview.locator("tr.free")).to_have_count(4)
    expect(preview.locator(".preview-summary")).to_contain_text("All 4 new times are free.")
    expect(preview.locator("tbody tr").first).to_contain_text("19:00–20:30")
    expect(preview.locator("tbody tr").first).to_contain_text("17:00–18:30")
    check_page(page, axe, "manage-series-preview", shots=True)

    tab_to(page, "input[name=confirm]")
    assert page.evaluate("document.activeElement.value") == "Change these 4 dates"
    page.keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text("Changed the dates of “Repair-Café”")
    article = page.locator(f"#booking-{booking_id}")
    expect(article.locator("tbody tr")).to_have_count(4)
    for row in article.locator("tbody tr").all():
        expect(row).to_contain_text("19:00–20:30")
    check_page(page, axe, "approved bookings after the change", buttons="main article .button")

    # The requester sees the new times on their own bookings page.
    fixer_page = open_page()
    log_in(fixer_page, "fixer@example.org")
    fixer_page.goto("/my/bookings")
    mine = fixer_page.locator("article.booking", has_text="Repair-Café")
    expect(mine.locator("tbody tr")).to_have_count(4)
    expect(mine.locator("tbody tr", has_text="19:00–20:30")).to_have_count(4)
