"""The public directory and the plain-language guide (#15) in chromium: a club's admin lists it
on a desktop; a resident finds it on a phone without an account, with its next open offers.
No serious axe violation, nothing wider than 360 px; screenshots of each page at 360 and
1280 px go to test-artifacts/directory/."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from booking.models import MemberRole, Membership
from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "directory"
PHONE = {"width": 360, "height": 740}
WIDE = {"width": 1280, "height": 900}
BERLIN = ZoneInfo("Europe/Berlin")


@contextlib.contextmanager
def _serve(html: str) -> Iterator[str]:
    """A second web server on this machine that answers every GET with ``html``."""

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def check(page, axe, horizontal_scroll, name: str) -> None:
    before = page.viewport_size
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", WIDE), ("360", PHONE)):
        page.set_viewport_size(size)
        assert axe(page) == [], (name, label)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    assert not horizontal_scroll(page), name
    page.set_viewport_size(before)


def test_a_club_lists_itself_and_a_resident_finds_it(
    page,
    phone_page,
    axe,
    horizontal_scroll,
    db,
    make_user,
    make_organisation,
    make_site,
    make_room,
    make_booking,
):
    choir = make_organisation(name="Chor Harmonie", district="Hennen")
    make_organisation(
        name="Sprachcafé Sümmern",
        district="Sümmern",
        listed=True,
        description="Deutsch üben bei Kaffee und Kuchen, jeden Donnerstag. Alle sind willkommen.",
        website="https://sprachcafe.example.org",
    )
    ada = make_user(name="Ada Admin", email="ada@example.org", language="en")
    ada.memberships.append(Membership(organisation=choir, role=MemberRole.ADMIN))
    site = make_site(name="Stadtteilhaus Hennen", district="Hennen")
    room = make_room(site, name="Saal", step_free=True, accessible_toilet=True)
    first = date.today() + timedelta(days=3)
    for week in range(4):
        day = first + timedelta(weeks=week)
        at = datetime(day.year, day.month, day.day, 18, tzinfo=BERLIN)
        make_booking(
            ada, room, at, title="Offene Chorprobe", is_public=True, organisation_id=choir.id
        )
    at = datetime(first.year, first.month, first.day, 20, tzinfo=BERLIN)
    make_booking(ada, room, at, title="Vorstand", organisation_id=choir.id)
    db.session.commit()

    # The admin, on a desktop, lists the choir.
    page.goto("/login")
    page.fill("#email", "ada@example.org")
    page.fill("#password", PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()
    page.goto(f"/organisations/{choir.id}")
    expect(page.get_by_text("Not listed in the public directory.")).to_be_visible()
    page.get_by_role("link", name="Edit profile").click()
    page.fill("#description", "Wir singen jeden Dienstag. Neue Stimmen sind willkommen!")
    page.fill("#email", "chor@example.org")
    page.get_by_label("List the organisation in the public directory").check()
    check(page, axe, horizontal_scroll, "edit-profile")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The profile is saved.")).to_be_visible()
    expect(page.get_by_text("Listed in the public directory.")).to_be_visible()

    # A resident without an account, on a phone, in German, finds it by a word.
    resident = phone_page
    resident.goto("/")
    resident.get_by_role("navigation", name="Language").get_by_role(
        "button", name="Deutsch"
    ).click()
    resident.get_by_role("link", name="Neu hier? So funktioniert es, Schritt für Schritt").click()
    expect(resident.get_by_role("heading", name="So funktioniert es", level=1)).to_be_visible()
    check(resident, axe, horizontal_scroll, "help")
    resident.goto("/directory")
    expect(resident.get_by_role("heading", name="2 Organisationen")).to_be_visible()
    check(resident, axe, horizontal_scroll, "directory")
    resident.fill("#directory-q", "stimmen")
    resident.get_by_role("button", name="Organisationen zeigen").click()
    expect(resident.get_by_role("heading", name="1 Organisation")).to_be_visible()
    entry = resident.locator(".directory-list > li")
    expect(entry.get_by_text("Offene Chorprobe")).to_have_count(3)
    expect(entry.get_by_text("Vorstand")).to_have_count(0)
    entry.get_by_role("link", name="Alle 4 kommenden Termine – Chor Harmonie").click()
    expect(resident.get_by_role("heading", name="Chor Harmonie", level=1)).to_be_visible()
    expect(resident.get_by_text("4 kommende Termine")).to_be_visible()
    expect(resident.get_by_role("link", name="chor@example.org")).to_be_visible()
    check(resident, axe, horizontal_scroll, "directory-entry")
    resident.get_by_role("link", name="Offene Chorprobe").first.click()
    expect(resident.get_by_role("heading", name="Offene Chorprobe", level=1)).to_be_visible()
    expect(resident.get_by_text("stufenloser Zugang")).to_be_visible()
    expect(resident.get_by_role("link", name="In meinen Kalender (.ics)")).to_be_visible()
    check(resident, axe, horizontal_scroll, "offer")

    # The same resident looks for offers by a word, in step-free rooms only.
    resident.get_by_role("link", name="Offene Angebote").first.click()
    resident.fill("#offers-q", "chorprobe")
    resident.get_by_label("Nur in stufenlos erreichbaren Räumen").check()
    resident.get_by_role("button", name="Angebote zeigen").click()
    expect(resident.get_by_role("heading", name="4 kommende Termine")).to_be_visible()
    expect(resident.get_by_role("link", name="Offene Chorprobe")).to_have_count(4)
    check(resident, axe, horizontal_scroll, "offers-search")


def test_another_site_frames_the_offers_list(
    page, phone_page, axe, horizontal_scroll, live_server, db, make_user, make_site, make_room,
    make_booking,
):  # fmt: skip
    """A city portal (another origin) shows /embed/offers in a frame; a link opens the offer in
    a new tab; the ordinary pages refuse to be framed."""
    room = make_room(make_site(name="Stadtbücherei", district="Innenstadt"), name="Lesesaal")
    day = date.today() + timedelta(days=2)
    at = datetime(day.year, day.month, day.day, 17, tzinfo=BERLIN)
    offer = make_booking(make_user(), room, at, title="Vorlesestunde", is_public=True)
    db.session.commit()
    portal = (
        '<!doctype html><html lang="de"><head><title>Stadtportal</title></head><body>'
        "<h1>Stadtportal Iserlohn</h1>"
        f'<iframe title="Offene Angebote" src="{live_server}/embed/offers?lang=de" '
        'width="600" height="420"></iframe>'
        f'<iframe title="Raumsuche" src="{live_server}/offers" width="600" height="200"></iframe>'
        "</body></html>"
    )
    # The portal is another origin: a second little server on this machine (a page the browser
    # made up itself would count as public, and browsers keep public pages from framing loopback).
    with _serve(portal) as other:
        page.goto(other)
        frame = page.frame_locator('iframe[title="Offene Angebote"]')
        link = frame.get_by_role("link", name="Vorlesestunde")
        expect(link).to_be_visible()
        page.wait_for_load_state("networkidle")
        blocked = page.frame_locator('iframe[title="Raumsuche"]')
        expect(blocked.get_by_role("heading", name="Open offers")).to_have_count(0)
        urls = sorted(f.url for f in page.frames[1:])
        assert urls[0].startswith("chrome-error:"), urls  # the browser refused to show /offers
        assert urls[1].endswith("/embed/offers?lang=de"), urls
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "embed-in-portal-1280.png"), full_page=True)
        with page.expect_popup() as opened:
            link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.endswith(f"/offers/{offer.id}")
    expect(tab.get_by_role("heading", name="Vorlesestunde", level=1)).to_be_visible()

    phone_page.goto("/embed/offers")
    expect(phone_page.get_by_role("link", name="Vorlesestunde")).to_be_visible()
    check(phone_page, axe, horizontal_scroll, "embed")


def test_the_booking_form_asks_what_a_public_offer_is(
    page, axe, horizontal_scroll, db, make_user, make_site, make_room
):
    """The fieldset "For a public offer": a category, the audience, the languages named in
    themselves (Arabic right to left), free of charge and drop in; a phone shows it whole."""
    room = make_room(make_site(name="Stadtteilhaus"), name="Saal")
    make_user(name="Olga", email="olga@example.org", language="en")
    db.session.commit()
    page.goto("/login")
    page.fill("#email", "olga@example.org")
    page.fill("#password", PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()
    page.goto(f"/rooms/{room.id}/book")
    offer = page.get_by_role("group", name="For a public offer")
    offer.get_by_label("What kind of offer").select_option("language_cafe")
    offer.get_by_label("For whom").select_option("everyone")
    for name in ("Türkçe", "العربية", "Українська"):
        offer.get_by_label(name).check()
    offer.get_by_label("Free of charge").check()
    offer.get_by_label("Drop in: no sign-up needed").check()
    expect(offer.locator('label[lang="ar"]')).to_have_css("direction", "rtl")
    check(page, axe, horizontal_scroll, "booking-form-offer")
