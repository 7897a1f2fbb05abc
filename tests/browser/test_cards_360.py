"""At 360 px the tables of dates become cards: nothing wider than the screen, no word broken in
the middle ("Dienst ag"), no time range split ("18:0 0–20:0 0"); at 1280 px they stay tables.

Screenshots go to /tmp/shots/phone/ (or SHOTS_DIR) for a person to look at.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from booking import domain
from booking.models import ApprovalPolicy
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/phone"))

# Every word (a run without spaces) of the matching elements' text that the browser laid out
# on more than one line; "18:00–20:00" is one such word.
SPLIT_WORDS = """(selector) => {
  const split = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}"""

# Elements of the page whose right edge lies beyond the viewport.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
                  && getComputedStyle(el).position !== "absolute")
  .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
               + (el.className && typeof el.className === "string" ? "." + el.className : ""))"""

# Time cells that need more than one line or scroll inside their box.
BROKEN_TIMES = """() => [...document.querySelectorAll("table.dates .time")]
  .filter((el) => el.getClientRects().length !== 1 || el.scrollWidth > el.clientWidth + 1
          || el.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(el).fontSize))
  .map((el) => el.textContent)"""


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def log_in(page, email: str, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def assert_fits(page, name: str, axe) -> None:
    assert page.evaluate(TOO_WIDE) == [], f"{name}: wider than the screen"
    assert page.evaluate(BROKEN_TIMES) == [], f"{name}: a time range is split"
    assert page.evaluate(SPLIT_WORDS, "table.dates, .date-choices, .slots") == [], name
    assert axe(page) == [], name


def row_display(page) -> str:
    # A page's rows exist before its stylesheets are loaded: measure the laid-out page.
    page.wait_for_load_state("load")
    return page.evaluate(
        "() => getComputedStyle(document.querySelector('table.dates tbody tr')).display"
    )


def test_dates_are_cards_on_a_phone_and_tables_on_a_desktop(
    browser, live_server, phone_page, db, make_site, make_room, make_user, make_booking, axe
):
    site = make_site(name="Gesamtschule Seilersee", district="Iserlohn-Ost")
    room = make_room(
        site,
        name="Mehrzweckraum im Erdgeschoss",
        approval_policy=ApprovalPolicy.MANUAL,
        hours=[(d, 8 * 60, 22 * 60) for d in range(7)],
    )
    admin = make_user(is_admin=True, language="de")
    volunteer = make_user(language="de", email="volunteer@example.org")
    make_user(language="de", email="manager@example.org", manages=[site])
    first = date.today() + timedelta(days=14 - date.today().weekday() + 1)  # a Tuesday
    make_booking(admin, room, at(first + timedelta(weeks=1), 18), 60, title="Belegt")
    make_booking(
        volunteer,
        room,
        at(first - timedelta(days=5), 18),
        120,
        title="Hausaufgabenhilfe für die Klassen fünf bis sieben",
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=4),
        is_public=True,
    )
    make_booking(
        admin,
        room,
        at(first + timedelta(days=2), 16),
        90,
        title="Sprachcafé für alle, die Deutsch üben möchten",
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=3),
        is_public=True,
    )
    for n in range(8):
        make_booking(
            make_user(), room, at(first + timedelta(days=n + 1), 19), 90, title=f"Kurs {n}"
        )
    db.session.commit()

    page = phone_page
    log_in(page, "volunteer@example.org", "de")
    page.goto(f"/rooms/{room.id}/book")
    page.fill("#date", first.isoformat())
    page.fill("#start", "18:00")
    page.fill("#end", "20:00")
    page.fill("#title", "Chorprobe am Dienstag")
    page.locator("input[name=repeat][value=weekly]").check()
    page.locator("input[name=limit][value=count]").check()
    page.fill("#count", "4")
    if page.locator("#house_rules_accepted").count():
        page.check("#house_rules_accepted")
    page.locator("[name=preview]").click()
    expect(page.locator("#dates-preview")).to_be_visible()
    expect(page.locator("#dates-preview tbody tr.blocked")).to_have_count(1)
    assert row_display(page) == "block", "the preview is not a list of cards at 360 px"
    # On a card each cell says what it is (the label is drawn by CSS from data-label).
    time_cell = page.locator("#dates-preview tbody tr").first.get_by_role("cell").first
    expect(time_cell).to_have_accessible_name("Uhrzeit: 18:00–20:00")
    assert_fits(page, "preview", axe)
    shoot(page, "preview")

    page.goto("/my/bookings")
    assert row_display(page) == "block", "my bookings are not cards at 360 px"
    assert_fits(page, "my bookings", axe)
    shoot(page, "my-bookings")

    page.goto("/offers")
    assert_fits(page, "offers", axe)
    expect(page.locator(".offer")).to_have_count(3)
    shoot(page, "offers")
    page.goto("/offers?from=morgen&to=gestern")  # with the error messages next to the fields
    assert_fits(page, "offers with errors", axe)
    for field in ("#offers-district", "#offers-from", "#offers-to"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, field

    manager_context = browser.new_context(
        base_url=live_server,
        locale="de-DE",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    manager_page = manager_context.new_page()
    log_in(manager_page, "manager@example.org", "de")
    pages = {"/manage": "manage", "/manage/requests": "manage-requests"}
    pages["/manage/bookings"] = "manage-bookings"
    for url, name in pages.items():
        manager_page.goto(url)
        assert_fits(manager_page, name, axe)
        shoot(manager_page, name)
    assert row_display(manager_page) == "block", "the manager's dates are not cards at 360 px"
    manager_page.goto(f"/rooms/{room.id}")
    assert_fits(manager_page, "room week", axe)
    shoot(manager_page, "room")
    manager_page.goto("/manage")
    expect(manager_page.locator(".short-list li")).to_have_count(5)
    manager_context.close()

    desktop = browser.new_context(
        base_url=live_server, locale="de-DE", viewport={"width": 1280, "height": 900}
    )
    wide = desktop.new_page()
    log_in(wide, "volunteer@example.org", "de")
    wide.goto("/my/bookings")
    assert row_display(wide) == "table-row"
    assert_fits(wide, "my bookings (desktop)", axe)
    shoot(wide, "my-bookings")
    wide.goto(f"/rooms/{room.id}/book")
    wide.fill("#date", first.isoformat())
    wide.fill("#start", "18:00")
    wide.fill("#end", "20:00")
    wide.fill("#title", "Chorprobe am Dienstag")
    wide.locator("input[name=repeat][value=weekly]").check()
    wide.locator("input[name=limit][value=count]").check()
    wide.fill("#count", "4")
    if wide.locator("#house_rules_accepted").count():
        wide.check("#house_rules_accepted")
    wide.locator("[name=preview]").click()
    expect(wide.locator("#dates-preview")).to_be_visible()
    assert row_display(wide) == "table-row"
    shoot(wide, "preview")
    wide.goto("/offers")
    shoot(wide, "offers")
    desktop.close()

    desktop = browser.new_context(
        base_url=live_server, locale="de-DE", viewport={"width": 1280, "height": 900}
    )
    wide = desktop.new_page()
    log_in(wide, "manager@example.org", "de")
    wide.goto("/manage")
    assert_fits(wide, "manage (desktop)", axe)
    shoot(wide, "manage")
    desktop.close()
