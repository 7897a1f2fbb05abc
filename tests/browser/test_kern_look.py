"""The KERN UX look (#12): KERN's stylesheet and fonts come from this server (no request leaves
the host), the header, buttons, fields and status badges are drawn with KERN's font and colours,
the favicon loads, keyboard focus is visible, and the pages still fit a 360-pixel phone."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")


def log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def watch_requests(page) -> list[str]:
    """Every URL the page asks for; each is let through to the server."""
    seen: list[str] = []

    def handle(route):
        seen.append(route.request.url)
        route.continue_()

    page.route("**/*", handle)
    return seen


def computed(page, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(
        "(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop
    )


def token_colour(page, token: str) -> str:
    """The colour a KERN token resolves to, as the browser computes it."""
    return page.evaluate(
        """token => {
            const probe = document.createElement("div");
            probe.style.backgroundColor = `var(${token})`;
            document.body.append(probe);
            const colour = getComputedStyle(probe).backgroundColor;
            probe.remove();
            return colour;
        }""",
        token,
    )


def test_kern_comes_from_this_server_and_no_request_leaves_the_host(page, make_site, make_room):
    site = make_site(name="Stadtbücherei")
    room = make_room(site, name="Gruppenraum")
    seen = watch_requests(page)

    for path in ("/?lang=en", f"/rooms/{room.id}", "/login", "/register"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.evaluate("() => document.fonts.ready")

    hosts = {urlsplit(url).hostname for url in seen}
    assert hosts == {"127.0.0.1"}, sorted(url for url in seen if "127.0.0.1" not in url)
    assert any(url.endswith("/static/kern/kern.min.css") for url in seen)
    assert any(re.search(r"/static/kern/fonts/FiraSans-\w+\.woff2$", url) for url in seen)

    css = page.request.get("/static/kern/kern.min.css")
    assert css.status == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".kern-btn" in css.text()
    fonts = page.request.get("/static/kern/fonts/fira-sans.css")
    assert fonts.status == 200 and fonts.headers["content-type"].startswith("text/css")
    assert page.request.get("/static/kern/LICENSE.md").status == 200
    # The font the pages are set in has loaded (from the server, as the hosts above show).
    assert page.evaluate("() => document.fonts.check('16px \"Fira Sans\"')")


def test_the_favicon_loads(page):
    page.goto("/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    icon = page.request.get(href)
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.body()
    # Browsers also ask for /favicon.ico on their own.
    legacy = page.request.get("/favicon.ico")
    assert legacy.status == 200
    assert legacy.body() == icon.body()


def test_header_buttons_fields_and_badges_use_kern(
    page, db, make_site, make_room, make_user, make_booking
):
    site = make_site(name="Stadtbücherei")
    room = make_room(site, name="Gruppenraum", hours=[(d, 8 * 60, 22 * 60) for d in range(7)])
    user = make_user(email="kern@example.org", language="en")
    day = date.today() + timedelta(days=7)
    make_booking(user, room, datetime(day.year, day.month, day.day, 18, tzinfo=BERLIN), 90)
    db.session.commit()

    page.goto("/?lang=en")
    # KERN's Kopfzeile and the header with the site name and the navigation.
    expect(page.locator("header .kern-kopfzeile")).to_be_visible()
    expect(page.locator("header .brand")).to_be_visible()
    expect(page.locator("header nav.main-nav")).to_be_visible()
    for selector in (
        "body",
        ".brand",
        ".main-nav a",
        "main h1",
        "main button.primary",
        "main input",
    ):
        assert "Fira Sans" in computed(page, selector, "font-family"), selector
    # The primary button in KERN's action colour, with KERN's 48 px touch height.
    primary = "main button.primary"
    assert computed(page, primary, "background-color") == token_colour(
        page, "--kern-color-action-default"
    )
    assert page.locator(primary).first.bounding_box()["height"] >= 48
    # Fields: KERN's surface with a strong line underneath.
    field = "main input[type=date]"
    assert computed(page, field, "background-color") == token_colour(
        page, "--kern-color-form-input-background"
    )
    assert computed(page, field, "border-bottom-width") == "2px"
    # Keyboard focus: KERN's 4 px outline.
    page.locator(field).first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert computed(page, ":focus", "outline-width") == "4px"
    assert computed(page, ":focus", "outline-style") == "solid"

    # A booking's status is a KERN badge in the success colours.
    log_in(page, "kern@example.org")
    page.goto("/my/bookings")
    badge = "main span.status-approved"
    expect(page.locator(badge).first).to_be_visible()
    assert computed(page, badge, "background-color") == token_colour(
        page, "--kern-color-feedback-success-background"
    )
    assert computed(page, badge, "border-top-color") == token_colour(
        page, "--kern-color-feedback-success"
    )


def test_home_and_admin_fit_a_phone_and_axe_stays_quiet(
    phone_page, db, make_site, make_room, make_user, axe, horizontal_scroll
):
    page = phone_page
    site = make_site(name="Gesamtschule Seilersee mit einem sehr langen Namen")
    make_room(site, name="Mehrzweckraum im Erdgeschoss")
    make_user(email="kern-admin@example.org", is_admin=True, language="en")
    db.session.commit()

    page.goto("/?lang=en")
    assert not horizontal_scroll(page), "home scrolls sideways at 360 px"
    assert axe(page) == []
    log_in(page, "kern-admin@example.org")
    page.goto("/admin")
    expect(page.locator("main h1")).to_be_visible()
    assert not horizontal_scroll(page), "/admin scrolls sideways at 360 px"
    assert axe(page) == []
    # The footer's links start where the page's content starts.
    content_left = page.locator("main h1").bounding_box()["x"]
    footer_left = page.locator(".site-footer a").first.bounding_box()["x"]
    assert abs(content_left - footer_left) <= 1


def test_footer_lines_up_with_the_content_on_a_wide_screen(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/?lang=en")
    content_left = page.locator("main h1").bounding_box()["x"]
    assert content_left > 50  # the page is centred at 1280 px
    for selector in (".site-footer a", ".brand", ".kern-kopfzeile__label"):
        left = page.locator(selector).first.bounding_box()["x"]
        assert abs(left - content_left) <= 1, (selector, left, content_left)


def test_a_message_is_a_kern_alert(page, db, make_user):
    make_user(email="flash@example.org", language="en")
    db.session.commit()
    log_in(page, "flash@example.org")
    page.get_by_role("button", name="Log out", exact=True).click()
    alert = page.locator(".flashes .kern-alert--success")
    expect(alert).to_contain_text("You are logged out.")
    assert computed(page, ".flashes .kern-alert--success", "background-color") == token_colour(
        page, "--kern-color-feedback-success-background"
    )


def test_the_committed_copy_matches_the_pinned_package():
    """static/kern/ is what scripts/vendor-kern copies from the version package.json pins."""
    root = Path(__file__).resolve().parents[2]
    pinned = json.loads((root / "package.json").read_text())["devDependencies"]["@kern-ux/native"]
    assert f"KERN UX {pinned} (vendored)" in (root / "static/kern/README.md").read_text()
    package = root / "node_modules/@kern-ux/native"
    if not package.is_dir():
        pytest.skip("npm install has not run: nothing to compare with")
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    assert (root / "static/kern/kern.min.css").read_bytes() == (
        package / "dist/kern.min.css"
    ).read_bytes()
    for font in (root / "static/kern/fonts").glob("*.woff2"):
        assert font.read_bytes() == (package / "dist/fonts/fira-sans" / font.name).read_bytes()
