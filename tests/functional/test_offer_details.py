"""What an open offer is (#15): category, audience, languages spoken, free of charge, drop in;
given in the booking form or the API, shown with the offer, and filtered by on /offers, the
embeddable list and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.api.tokens import create_token
from booking.models import ApprovalPolicy, Booking, OfferAudience, OfferCategory
from booking.services import queries
from booking.services.errors import InvalidRequest
from booking.services.search import OfferFilter
from tests.functional.test_book import form_data, next_monday

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}


def at(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


@pytest.fixture
def offers(make_site, make_room, make_user, make_booking):
    room = make_room(make_site(district="Letmathe"), approval_policy=ApprovalPolicy.AUTOMATIC)
    user = make_user()
    return {
        "cafe": make_booking(user, room, at(1), title="Sprachcafé", is_public=True,
                             offer_category="language_cafe", offer_audience="adults",
                             offer_languages=("de", "tr", "ar"), free_of_charge=True,
                             drop_in=True),
        "choir": make_booking(user, room, at(2), title="Kinderchor", is_public=True,
                              offer_category="music", offer_audience="children",
                              offer_languages=("de",)),
        "plain": make_booking(user, room, at(3), title="Lesekreis", is_public=True),
    }  # fmt: skip


def titles(**offer) -> list[str]:
    found = queries.open_offers(offer=OfferFilter(**offer))
    return [o.booking.title for o in found.items]


def test_filters_by_what_the_offer_is(db, offers):
    assert titles() == ["Sprachcafé", "Kinderchor", "Lesekreis"]
    assert titles(category="music") == ["Kinderchor"]
    assert titles(audience="adults") == ["Sprachcafé"]
    assert titles(language="tr") == ["Sprachcafé"]
    assert titles(language="de") == ["Sprachcafé", "Kinderchor"]
    assert titles(language="uk") == []
    assert titles(free=True) == ["Sprachcafé"]
    assert titles(drop_in=True, language="ar") == ["Sprachcafé"]


def test_the_details_are_checked(db, make_room, make_user, make_booking):
    room, user = make_room(), make_user()
    for details, field in (
        ({"offer_category": "poker"}, "offer_category"),
        ({"offer_audience": "aliens"}, "offer_audience"),
        ({"offer_languages": ("de", "xx")}, "offer_languages"),
    ):
        with pytest.raises(InvalidRequest) as refused:
            make_booking(user, room, at(5), title="Test", is_public=True, **details)
        assert refused.value.field == field
    assert db.session.scalar(select(Booking.id)) is None  # nothing written
    once = make_booking(user, room, at(6), title="Once", offer_languages=("tr", "de", "tr"))
    assert once.offer_languages == ["tr", "de"]  # each once, in the order given


def test_the_booking_form_takes_the_details(client, db, make_room, make_user, login_as):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    login_as(make_user(language="en"))
    form = client.get(f"/rooms/{room.id}/book", headers=EN).text
    assert "For a public offer" in form
    # Each language named in itself, marked with its language for screen readers.
    assert re.search(r'lang="tr" dir="auto">Türkçe</label>', form)
    assert re.search(r'lang="ar" dir="auto">العربية</label>', form)
    first = next_monday()
    details = {"is_public": "y", "offer_category": "sport", "offer_audience": "seniors",
               "offer_languages": ["de", "uk"], "free_of_charge": "y", "drop_in": "y"}  # fmt: skip
    preview = client.post(f"/rooms/{room.id}/book", data=form_data(first, preview="y", **details))
    fingerprint = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview.text)
    done = client.post(
        f"/rooms/{room.id}/book",
        data=form_data(first, book="y", previewed=fingerprint.group(1), **details),
    )
    assert done.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.offer_category is OfferCategory.SPORT
    assert booking.offer_audience is OfferAudience.SENIORS
    assert booking.offer_languages == ["de", "uk"]
    assert booking.free_of_charge and booking.drop_in
    page = client.get(f"/offers/{booking.id}", headers=EN).text
    for shown in ("Sport and exercise", "for: Older people", "free of charge",
                  "drop in, no sign-up", 'lang="uk">Українська</span>'):  # fmt: skip
        assert shown in page, shown


def test_a_wrong_choice_in_the_form_is_explained(client, db, make_room, make_user, login_as):
    room = make_room()
    login_as(make_user(language="en"))
    data = form_data(next_monday(), preview="y", offer_languages=["de", "xx"])
    response = client.post(f"/rooms/{room.id}/book", data=data, headers=EN)
    assert response.status_code == 422
    assert "is not a valid choice" in response.text
    assert db.session.scalar(select(Booking.id)) is None


def test_the_offers_page_and_the_api_filter_alike(client, db, offers):
    page = client.get("/offers?language=tr&free=1", headers=EN)
    assert page.status_code == 200
    assert "Sprachcafé" in page.text and "Kinderchor" not in page.text
    assert "Language café" in page.text and 'lang="ar">العربية</span>' in page.text
    embed = client.get("/embed/offers?category=music", headers=EN).text
    assert "Kinderchor" in embed and "Sprachcafé" not in embed
    body = client.get("/api/v1/open-offers?audience=children").get_json()
    (item,) = body["items"]
    assert item["title"] == "Kinderchor"
    assert (item["category"], item["audience"], item["languages"]) == ("music", "children", ["de"])
    assert item["url"].endswith(f"/offers/{offers['choir'].id}")
    body = client.get("/api/v1/open-offers?language=ar&drop_in=true").get_json()
    assert [o["title"] for o in body["items"]] == ["Sprachcafé"]


@pytest.mark.parametrize("query", ["category=poker", "audience=aliens", "language=xx"])
def test_unknown_filter_values_are_explained(client, db, query):
    page = client.get(f"/offers?{query}", headers=EN)
    assert page.status_code == 422 and "Please choose one from the list." in page.text
    assert client.get(f"/embed/offers?{query}", headers=EN).status_code == 422
    problem = client.get(f"/api/v1/open-offers?{query}")
    assert problem.status_code == 422
    assert problem.get_json()["errors"][0]["field"] == query.split("=")[0]


def test_the_api_books_with_the_details(client, db, make_room, make_user):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    _token_row, token = create_token(make_user(), "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    start = at(9).replace(tzinfo=None)
    body = {"room_id": room.id, "title": "Tanzen 60+", "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(), "public": True,
            "offer_category": "sport", "offer_audience": "seniors",
            "offer_languages": ["de", "ru"], "free_of_charge": True}  # fmt: skip
    response = client.post("/api/v1/bookings", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    booking = db.session.get(Booking, response.get_json()["id"])
    assert (booking.offer_category, booking.offer_languages) == (OfferCategory.SPORT, ["de", "ru"])
    wrong = client.post("/api/v1/bookings", json=body | {"offer_languages": ["klingon"]},
                        headers=headers)  # fmt: skip
    assert wrong.status_code == 422
    assert any(e["field"].startswith("offer_languages") for e in wrong.get_json()["errors"])
