"""Dated opening exceptions (#11) in chromium: a school's manager closes the site early on
Christmas Eve, sees it listed, gets a refused entry shown next to its field, deletes it again;
accessible, and usable at 360 px."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select

from booking.models import OpeningException
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")


def _christmas_eve() -> date:
    today = datetime.now(BERLIN).date()
    eve = date(today.year, 12, 24)
    return eve if eve > today + timedelta(days=1) else date(today.year + 1, 12, 24)


def test_add_and_delete_an_exception(
    page, db, make_site, make_room, make_user, axe, horizontal_scroll
):
    site = make_site(name="Realschule Iserlohn")
    make_room(site, name="Aula")
    make_user(email="hausmeister@example.org", language="en", manages=[site])
    db.session.commit()
    eve = _christmas_eve()

    page.goto("/login?lang=en")
    page.fill("#email", "hausmeister@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()
    page.goto(f"/admin/sites/{site.id}/opening-hours")
    expect(page.get_by_role("heading", name="Exceptions on single dates")).to_be_visible()
    assert axe(page) == [], "opening hours with the exceptions section"

    # Closing before opening: refused, the message next to "Open until".
    page.get_by_label("Date", exact=True).fill(eve.isoformat())
    page.get_by_label("Open from").fill("12:00")
    page.get_by_label("Open until").fill("09:00")
    page.get_by_role("button", name="Add the exception").click()
    expect(page.locator("#exception-closes-error")).to_be_visible()
    assert axe(page) == [], "exception refused"

    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_label("Open from").fill("09:00")
    page.get_by_label("Open until").fill("12:00")
    page.get_by_label("Reason").fill("Heiligabend")
    page.get_by_role("button", name="Add the exception").click()
    expect(page).to_have_url(re.compile(rf"/admin/sites/{site.id}/opening-hours#exceptions$"))
    item = page.locator("#exception-list li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("09:00–12:00")
    expect(item).to_contain_text("Heiligabend")
    assert not horizontal_scroll(page), "opening hours at 360 px"
    assert axe(page) == [], "opening hours at 360 px"

    item.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator("#exception-list")).to_have_count(0)
    db.session.expire_all()
    assert db.session.scalars(select(OpeningException)).all() == []
