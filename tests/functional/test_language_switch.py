"""The language switch is a small POST form: it keeps the choice, comes back to the same page,
never leads to another site, and a GET with ?lang= changes nothing stored."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD


def test_the_switch_is_a_form_with_a_button_per_language(client):
    page = client.get("/offers?x=1").get_data(as_text=True)
    switch = re.search(r'<nav class="lang-switch".*?</nav>', page, re.S)[0]
    assert '<form method="post" action="/language">' in switch
    assert 'name="csrf_token"' in switch
    assert 'name="next" value="/offers?x=1"' in switch
    assert '<button type="submit" name="lang" value="en" lang="en"' in switch
    assert '<span aria-current="true" lang="de">Deutsch</span>' in switch
    assert "<a " not in switch  # no link that changes a setting


def test_choosing_a_language_keeps_it_and_shows_the_same_page(client):
    response = client.post("/language", data={"lang": "en", "next": "/offers?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/offers?x=1"
    page = client.get("/offers?x=1", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in page


def test_a_logged_in_user_keeps_the_choice_in_the_account(client, db, make_user, new_client):
    user = make_user(email="lena@example.org", language="de")
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/language", data={"lang": "en", "next": "/my/bookings"})
    db.session.refresh(user)
    assert user.language == "en"
    other = new_client()  # another browser, the same account
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert '<html lang="en"' in other.get("/my/bookings").get_data(as_text=True)


def test_a_get_with_lang_shows_the_page_but_stores_nothing(client, db, make_user):
    assert '<html lang="en"' in client.get("/offers?lang=en").get_data(as_text=True)
    assert '<html lang="de"' in client.get("/offers").get_data(as_text=True)
    user = make_user(email="omar@example.org", language="de")
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.get("/profile?lang=en")
    db.session.refresh(user)
    assert user.language == "de"
    assert '<html lang="de"' in client.get("/profile").get_data(as_text=True)


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_the_switch_never_leads_to_another_site(client, evil):
    response = client.post("/language", data={"lang": "en", "next": evil})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_an_unknown_language_changes_nothing(client):
    response = client.post("/language", data={"lang": "xx", "next": "/offers"})
    assert response.headers["Location"] == "/offers"
    page = client.get("/offers").get_data(as_text=True)
    assert '<html lang="de"' in page
    assert "flash-error" in page


def test_after_a_post_the_switch_leads_home(client):
    page = client.post("/register", data={}).get_data(as_text=True)
    assert 'name="next" value="/"' in page
