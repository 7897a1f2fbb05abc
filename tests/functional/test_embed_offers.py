"""The embeddable offers list (#15): /embed/offers for other sites to frame, with the filters of
/offers, links that open this service in a new tab, and framing allowed for this page only."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.config import _frame_ancestors
from tests.functional.test_security_headers import csp_directives

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def at(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="[^"]+" rel="noopener">(.*?)<span', html)


@pytest.fixture
def offers(make_site, make_room, make_user, make_booking):
    letmathe = make_room(make_site(district="Letmathe"))
    hennen = make_room(make_site(district="Hennen"))
    user = make_user()
    made = [
        make_booking(user, letmathe, at(1 + day), title=f"Chor {day}", is_public=True)
        for day in range(12)
    ]
    make_booking(user, hennen, at(2), title="Sprachcafé Hennen", is_public=True)
    make_booking(user, letmathe, at(1, 20), title="Vorstand (privat)")
    return made


def test_the_next_offers_in_a_frame_friendly_page(app, client, db, offers):
    base = app.config["BOOKING_BASE_URL"]  # links name the service's own address
    response = client.get("/embed/offers", headers=EN)
    assert response.status_code == 200
    html = response.text
    expected = ["Chor 0", "Chor 1", "Sprachcafé Hennen", *(f"Chor {d}" for d in range(2, 9))]
    assert titles(html) == expected  # the next ten, soonest first
    assert "Vorstand" not in html
    # Links lead to this service (absolute) and open in a new tab, not inside the frame.
    assert '<base target="_blank">' in html
    assert f'href="{base}/offers/{offers[0].id}"' in html
    assert f'href="{base}/offers"' in html
    # Any site may frame it; no cookie is set for a third-party frame.
    assert csp_directives(response)["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    # Every other page still refuses to be framed.
    page = client.get("/offers", headers=EN)
    assert csp_directives(page)["frame-ancestors"] == ["'none'"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_filters_and_limit(app, client, db, offers):
    html = client.get("/embed/offers?district=Hennen", headers=EN).text
    assert titles(html) == ["Sprachcafé Hennen"]
    assert f'href="{app.config["BOOKING_BASE_URL"]}/offers?district=Hennen"' in html
    assert len(titles(client.get("/embed/offers?limit=3", headers=EN).text)) == 3
    assert len(titles(client.get("/embed/offers?limit=50", headers=EN).text)) == 13
    later = (date.today() + timedelta(days=10)).isoformat()
    from_later = client.get(f"/embed/offers?from={later}", headers=EN).text
    assert titles(from_later) == ["Chor 9", "Chor 10", "Chor 11"]
    german = client.get("/embed/offers?district=Hennen&lang=de").text
    assert "Offene Angebote" in german


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("district=Atlantis", "There is no such district."),
        ("limit=0", "Give a number from 1 to 50."),
        ("limit=51", "Give a number from 1 to 50."),
        ("limit=ten", "Give a number from 1 to 50."),
        ("from=tomorrow", "Please give a date like 2026-12-01."),
    ],
)
def test_bad_parameters_are_explained(client, db, query, message):
    response = client.get(f"/embed/offers?{query}", headers=EN)
    assert response.status_code == 422
    assert message in response.text


def test_the_city_chooses_who_may_frame_it(app, db, offers):
    app.config["EMBED_FRAME_ANCESTORS"] = "https://www.iserlohn.de https://*.iserlohn.de"
    try:
        response = app.test_client().get("/embed/offers")
    finally:
        app.config["EMBED_FRAME_ANCESTORS"] = "*"
    assert csp_directives(response)["frame-ancestors"] == [
        "https://www.iserlohn.de",
        "https://*.iserlohn.de",
    ]


@pytest.mark.parametrize(
    "value", ["*; script-src *", "https://a.example, https://b.example", "https://a.example\x07"]
)
def test_a_setting_that_would_break_the_policy_is_refused(value):
    with pytest.raises(ValueError, match="EMBED_FRAME_ANCESTORS"):
        _frame_ancestors(value)


def test_the_setting_is_a_tidy_source_list():
    assert _frame_ancestors("  https://a.example   https://b.example ") == (
        "https://a.example https://b.example"
    )
    assert _frame_ancestors("") == "*"
