"""The Content-Security-Policy (#13) does not break the pages: chromium loads the main pages under
the real policy (no ``bypass_csp``), their scripts still run, and it reports no violation."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking.models import ApprovalPolicy
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")

# securitypolicyviolation events, kept across the page's lifetime (the init script runs through
# the DevTools protocol, so the policy does not stop it).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Violations:
    """What chromium said about the policy: its console messages and the DOM's events."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)
        page.add_init_script(RECORD_VIOLATIONS)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(f"{self.page.url}: {message.text}")

    def on(self, path: str) -> list[str]:
        """Open ``path``, wait until it settled, and return every violation seen so far."""
        self.page.goto(path)
        self.page.wait_for_load_state("networkidle")
        return self.seen()

    def seen(self) -> list[str]:
        events = self.page.evaluate("window.__cspViolations || []")
        return self.console + [f"{self.page.url}: {e}" for e in events]


@pytest.fixture
def violations(page):
    return Violations(page)


def log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def weekday_ahead(weeks: int = 2) -> date:
    """A Tuesday at least ``weeks`` weeks from today."""
    today = date.today()
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7 * weeks)


def test_the_main_pages_run_under_the_policy(
    page, violations, db, make_site, make_room, make_user, make_booking
):
    site = make_site(name="Grundschule Hennen")
    room = make_room(site, name="Turnhalle", approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(email="sekretariat@example.org", manages=[site], language="en")
    member = make_user(email="verein@example.org", language="en")
    make_user(email="admin@example.org", is_admin=True, language="en")
    day = weekday_ahead()
    make_booking(member, room, datetime(day.year, day.month, day.day, 17, tzinfo=BERLIN))
    db.session.commit()

    # Anonymous: search (with its script switching the search mode), a room, log-in, API docs.
    assert violations.on("/?lang=en") == []
    expect(page.locator(".mode-weekly")).to_be_hidden()
    page.locator("input[name=mode][value=weekly]").check()
    expect(page.locator(".mode-weekly")).to_be_visible()
    assert violations.on(f"/rooms/{room.id}") == []
    assert violations.on("/login") == []
    assert violations.on("/api/v1/docs") == []
    # The API docs' layout rules moved from an inline <style> into style.css: still applied.
    overflow = page.locator(".api-docs pre").first.evaluate("el => getComputedStyle(el).overflowX")
    assert overflow == "auto"

    # A member books: the booking form's script shows the repetition details on demand.
    log_in(page, member.email)
    assert violations.on(f"/rooms/{room.id}/book") == []
    details = page.locator("#recurrence-details")
    expect(details).to_be_hidden()
    page.locator("input[name=repeat]:not([value=none])").first.check()
    expect(details).to_be_visible()
    assert violations.on("/my/bookings") == []
    page.get_by_role("button", name="Log out", exact=True).click()

    log_in(page, manager.email)
    assert violations.on("/manage/requests") == []
    expect(page.locator("main")).to_contain_text("Turnhalle")
    page.get_by_role("button", name="Log out", exact=True).click()

    log_in(page, "admin@example.org")
    assert violations.on("/admin") == []
    assert violations.on("/profile") == []
    assert violations.seen() == []


def test_the_watch_sees_a_violation(page, violations):
    """The check above can fail: an inline script is refused and reported."""
    assert violations.on("/login") == []
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in violations.seen())


def test_the_development_outbox_shows_styled_mails(
    page, violations, db, make_room, make_user, make_booking
):
    """Mails style their HTML inline (mail programs ignore stylesheets); the outbox's preview
    frame inherits the page's policy, which allows inline styles there and nowhere else."""
    room = make_room(name="Saal")
    member = make_user(email="verein@example.org", language="en")
    day = weekday_ahead()
    make_booking(member, room, datetime(day.year, day.month, day.day, 17, tzinfo=BERLIN))
    db.session.commit()
    response = page.goto("/dev/outbox")
    if response.status == 404:
        pytest.skip("the outbox page exists only with BOOKING_ENV=development")
    page.locator("details:has(iframe) summary").first.click()
    frame = page.frame_locator("iframe.outbox-html").first
    # The mail's own inline style (its white card on grey) is applied.
    background = frame.locator("body").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(242, 244, 247)"
    assert violations.seen() == []
