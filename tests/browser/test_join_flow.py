"""Join an existing organisation (#12) in chromium: a volunteer on a phone finds the choir and
asks to join; its admin, on a desktop, accepts. No serious axe violation, nothing wider than
360 px; screenshots of each page at 360 and 1280 px go to test-artifacts/join/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from booking.models import MemberRole, Membership
from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "join"
PHONE = {"width": 360, "height": 740}
WIDE = {"width": 1280, "height": 900}


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()


def check(page, axe, horizontal_scroll, name: str) -> None:
    """No serious or critical axe violation at either width, no sideways scrolling on a phone,
    and a screenshot at each width; the viewport is put back."""
    before = page.viewport_size
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", WIDE), ("360", PHONE)):
        page.set_viewport_size(size)
        assert axe(page) == [], (name, label)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    assert not horizontal_scroll(page), name
    page.set_viewport_size(before)


def test_join_an_existing_organisation(
    page, phone_page, axe, horizontal_scroll, db, make_user, make_organisation
):
    choir = make_organisation(name="Chor Harmonie", district="Hennen")
    for name in ("Sportverein Letmathe", "Theatergruppe Iserlohn", "Chorgemeinschaft Sümmern"):
        make_organisation(name=name, district="Iserlohn")
    ada = make_user(name="Ada Admin", email="ada@example.org", language="en")
    ada.memberships.append(Membership(organisation=choir, role=MemberRole.ADMIN))
    make_user(name="Vera Volunteer", email="vera@example.org", language="en")
    db.session.commit()

    # The volunteer, on a phone, finds the choir and asks to join.
    vera = phone_page
    log_in(vera, "vera@example.org")
    vera.goto("/organisations")
    vera.fill("#q", "chor")
    vera.locator("#q").press("Enter")
    vera.wait_for_url("**/organisations?q=chor*")
    expect(vera.get_by_text("2 organisations found")).to_be_visible()
    check(vera, axe, horizontal_scroll, "organisations-search")
    expect(vera.get_by_role("link", name="Ask to join – Chor Harmonie")).to_be_visible()

    # Trying to create it instead leads to the same place.
    vera.get_by_role("link", name="Create an organisation").click()
    vera.fill("#name", "chor harmonie")
    vera.get_by_role("button", name="Create").click()
    expect(vera.get_by_text("An organisation with this name exists already.").last).to_be_visible()
    check(vera, axe, horizontal_scroll, "organisation-exists")
    vera.get_by_role("link", name="Ask to join it").click()
    expect(vera.get_by_role("heading", name="Join Chor Harmonie")).to_be_visible()
    check(vera, axe, horizontal_scroll, "join-form")
    vera.fill("#message", "I sing tenor and would like to book the rehearsal room.")
    vera.get_by_role("button", name="Ask to join").click()
    expect(vera.get_by_text("Your request to join Chor Harmonie is sent.")).to_be_visible()
    expect(vera.get_by_role("button", name="Withdraw the request")).to_be_visible()
    check(vera, axe, horizontal_scroll, "join-asked")

    # The admin, on a desktop, sees the request on the organisation's page and accepts it.
    log_in(page, "ada@example.org")
    page.goto(f"/organisations/{choir.id}")
    requests = page.get_by_role("region", name="Requests to join")
    expect(requests.get_by_role("heading", name="Vera Volunteer")).to_be_visible()
    expect(requests.get_by_text("I sing tenor")).to_be_visible()
    check(page, axe, horizontal_scroll, "join-requests")
    requests.get_by_role("button", name="Accept – Vera Volunteer").click()
    expect(page.get_by_text("Vera Volunteer is now a member.")).to_be_visible()
    expect(page.get_by_role("region", name="Requests to join")).to_have_count(0)

    # The volunteer now belongs to the choir.
    vera.goto("/organisations?q=harmonie")
    expect(vera.get_by_role("link", name="Chor Harmonie").first).to_be_visible()
    expect(vera.get_by_text("You are a member").first).to_be_visible()
    check(vera, axe, horizontal_scroll, "organisations-member")
