"""Finding open offers by words and in step-free rooms (#15), on SQLite (FTS5, word beginnings)
and PostgreSQL (German stems, GIN index): the offers page, the embeddable list and the API."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.models import Booking
from booking.services import queries

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}
ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def at(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


@pytest.fixture
def offers(make_site, make_room, make_user, make_booking):
    plain = make_room(make_site(district="Letmathe"), step_free=False)
    step_free = make_room(make_site(district="Hennen"), step_free=True)
    user = make_user()
    return {
        "choir": make_booking(user, plain, at(1), title="Offene Chorprobe", is_public=True,
                              description="Alle Stimmen willkommen, auch ohne Noten"),
        "homework": make_booking(user, step_free, at(2), title="Lernen am Nachmittag",
                                 is_public=True, description="Hilfe bei den Hausaufgaben"),
        "cafe": make_booking(user, step_free, at(3), title="Sprachcafé", is_public=True,
                             description="Deutsch üben bei Kaffee"),
        "private": make_booking(user, plain, at(4), title="Chor Vorstand",
                                description="Hausaufgaben des Vorstands"),
    }  # fmt: skip


def titles(**filters) -> list[str]:
    return [o.booking.title for o in queries.open_offers(**filters).items]


def test_words_in_title_or_description(db, offers):
    assert titles(q="chorprobe") == ["Offene Chorprobe"]
    assert titles(q="STIMMEN") == ["Offene Chorprobe"]  # letter case aside
    assert titles(q="Kaffee Deutsch") == ["Sprachcafé"]  # every word, in any order
    assert titles(q="Kaffee Noten") == []
    # A word's other forms: "Hausaufgabe" finds "Hausaufgaben" (a German stem on PostgreSQL,
    # the word's beginning on SQLite); the private booking with the same word stays hidden.
    assert titles(q="Hausaufgabe") == ["Lernen am Nachmittag"]
    assert titles(q="") == ["Offene Chorprobe", "Lernen am Nachmittag", "Sprachcafé"]


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="German stemming is PostgreSQL's (SQLite matches word beginnings)"
)
def test_postgresql_matches_german_stems(db, offers):
    assert titles(q="Stimme") == ["Offene Chorprobe"]
    assert titles(q="Chorproben") == ["Offene Chorprobe"]


ALL = ["Offene Chorprobe", "Lernen am Nachmittag", "Sprachcafé"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ('"', ALL),  # no word at all: no filter
        ("^ : ( )", ALL),
        ('stimmen" OR "x', []),  # every word must be there; OR is a word like any other
        ("NEAR(stimmen", []),
        ("stimmen*", ["Offene Chorprobe"]),
        ("-stimmen", ["Offene Chorprobe"]),  # no exclusion either: just the word
    ],
)
def test_search_syntax_typed_by_someone_is_just_words(db, offers, typed, expected):
    assert titles(q=typed) == expected  # and never a database error


def test_a_changed_text_is_found_by_its_new_words_only(db, offers):
    """The index follows every change, anonymisation included: an old title is not found."""
    booking = db.session.get(Booking, offers["choir"].id)
    booking.title, booking.description = "Anonymisierte Buchung", ""
    db.session.commit()
    assert titles(q="Chorprobe") == []
    assert titles(q="Stimmen") == []
    assert titles(q="Anonymisierte") == ["Anonymisierte Buchung"]
    db.session.delete(db.session.scalar(select(Booking).where(Booking.id == offers["cafe"].id)))
    db.session.commit()
    assert titles(q="Kaffee") == []


def test_only_step_free_rooms(db, offers):
    assert titles(accessible=True) == ["Lernen am Nachmittag", "Sprachcafé"]
    assert titles(accessible=True, q="Kaffee") == ["Sprachcafé"]


def test_the_pages_and_the_api_search_alike(client, db, offers):
    page = client.get("/offers?q=Kaffee&accessible=1", headers=EN)
    assert page.status_code == 200
    assert "Sprachcafé" in page.text and "Offene Chorprobe" not in page.text
    assert 'value="Kaffee"' in page.text and "checked" in page.text
    embed = client.get("/embed/offers?q=Stimmen", headers=EN).text
    assert "Offene Chorprobe" in embed and "Sprachcafé" not in embed
    body = client.get("/api/v1/open-offers?q=Hausaufgabe").get_json()
    assert [o["title"] for o in body["items"]] == ["Lernen am Nachmittag"]
    body = client.get("/api/v1/open-offers?accessible=true").get_json()
    assert [o["title"] for o in body["items"]] == ["Lernen am Nachmittag", "Sprachcafé"]


def test_too_many_characters_are_explained(client, db, offers):
    long = "chor " * 21
    page = client.get(f"/offers?q={long}", headers=EN)
    assert page.status_code == 422 and "Please enter at most 100 characters." in page.text
    assert client.get(f"/embed/offers?q={long}", headers=EN).status_code == 422
    problem = client.get(f"/api/v1/open-offers?q={long}")
    assert problem.status_code == 422
    assert any(e["field"] == "q" for e in problem.get_json()["errors"])
