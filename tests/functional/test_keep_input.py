"""Nothing typed is lost: login and registration lead back to where the person was going, an
expired form comes back filled in, and a form sent after the session ended in another tab
comes back filled in after the login. CSRF protection is on here, as in production."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from booking import create_app
from booking.models import Booking, User
from tests.mails import confirmation_link

PASSWORD = "correct horse battery"
FIRST = date.today() + timedelta(days=30)


@pytest.fixture
def csrf_app(database_url, db):
    """An app of its own with CSRF protection switched on."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "keep-input-secret",
            "SERVER_NAME": "raumboerse.test",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    yield app
    with app.app_context():
        from booking.extensions import db as _db

        _db.engine.dispose()


def token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def booking_values(room_id: int, csrf: str) -> dict:
    return {
        "csrf_token": csrf,
        "date": FIRST.isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe Sopran",
        "description": "Wir üben für das Sommerkonzert.",
        "attendees": "14",
        "organisation": "",
        "repeat": "none",
        "limit": "until",
        "skip_closures": "y",
        "preview": "Show the dates",
    }


def assert_filled(page: str) -> None:
    assert 'value="Chorprobe Sopran"' in page
    assert "Wir üben für das Sommerkonzert." in page
    assert f'value="{FIRST.isoformat()}"' in page
    assert 'value="18:00"' in page and 'value="20:00"' in page
    assert 'value="14"' in page


def link_with_next(page: str, path: str) -> str:
    """The page's link to ``path`` that carries a ``next`` (the header's own links do not)."""
    links = re.findall(rf'<a href="({path}\?next=[^"]*)"', page)
    assert len(links) == 1, links
    return links[0]


def log_in(client, email: str, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    page = text(client.get(url))
    return client.post(url, data={"email": email, "password": PASSWORD, "csrf_token": token(page)})


def bookings(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


# Login and registration keep where the person was going.


def test_the_register_link_on_the_login_page_keeps_next(client, make_room):
    room = make_room()
    target = f"/rooms/{room.id}/book?date={FIRST.isoformat()}&start=18:00&end=20:00&people=14"
    login = client.get(target)
    assert login.status_code == 302
    page = text(client.get(login.headers["Location"]))
    link = link_with_next(page, "/register")
    assert parse_qs(urlsplit(link).query)["next"] == [target]
    # ... and the register page's form and its "Log in" link keep it too.
    register = text(client.get(link))
    action = re.search(r'<form method="post" action="(/register[^"]*)"', register).group(1)
    assert parse_qs(urlsplit(action).query)["next"] == [target]
    back = link_with_next(register, "/login")
    assert parse_qs(urlsplit(back).query)["next"] == [target]


def test_registering_leads_to_the_booking_form_with_the_search_values(csrf_app, db, make_room):
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    target = f"/rooms/{room.id}/book?date={FIRST.isoformat()}&start=18:00&end=20:00&people=14"
    login_url = client.get(target).headers["Location"]
    login_page = text(client.get(login_url))
    register_page = text(client.get(link_with_next(login_page, "/register")))
    action = re.search(r'<form method="post" action="(/register[^"]*)"', register_page).group(1)
    response = client.post(
        action,
        data={
            "csrf_token": token(register_page),
            "email": "nora@example.org",
            "name": "Nora",
            "password": "lange-geheim-1",
            "confirm": "lange-geheim-1",
            "language": "en",
        },
    )
    # The confirmation mail's link carries the target; confirming leads there.
    assert response.status_code == 303
    link = confirmation_link(db, "nora@example.org")
    confirm_page = text(client.get(link))
    response = client.post(link, data={"csrf_token": token(confirm_page)})
    assert response.status_code == 303
    assert response.headers["Location"] == target
    form = text(client.get(target))
    assert f'value="{FIRST.isoformat()}"' in form
    assert 'value="18:00"' in form and 'value="14"' in form


def test_login_leads_to_next(client, make_user, make_room):
    user = make_user()
    room = make_room()
    target = f"/rooms/{room.id}/book?date={FIRST.isoformat()}&start=18:00"
    client.get(target)
    db_commit(client)
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target


def db_commit(client) -> None:
    from booking.extensions import db

    db.session.commit()


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_login_and_register_refuse_to_lead_to_another_site(client, db, make_user, evil):
    user = make_user()
    db.session.commit()
    response = client.post(
        "/login", query_string={"next": evil}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.post("/logout")
    page = text(client.get("/login", query_string={"next": evil}))
    # The form and the "Register" link leave the unsafe target out.
    assert re.search(r'<form method="post" action="/login"', page)
    assert re.search(r'<a href="/register">', page)
    response = client.post(
        "/register",
        query_string={"next": evil},
        data={
            "email": "neu@example.org",
            "name": "Neu",
            "password": "lange-geheim-1",
            "confirm": "lange-geheim-1",
            "language": "de",
        },
    )
    # The confirmation link leads home, not to the other site.
    assert response.status_code == 303
    link = confirmation_link(db, "neu@example.org")
    assert "evil" not in link
    response = client.post(link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


# An expired form comes back filled in.


def test_an_expired_booking_form_comes_back_filled_in_with_a_fresh_token(
    csrf_app, db, make_user, make_room
):
    user = make_user()
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    assert log_in(client, user.email).status_code == 302
    form = text(client.get(f"/rooms/{room.id}/book"))
    fresh_before = token(form)

    response = client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, "stale"))
    page = text(response)
    assert response.status_code == 400
    assert_filled(page)
    assert "The form has expired" in page or "Das Formular ist abgelaufen" in page
    assert "Nothing was sent" in page or "nichts gesendet" in page
    new_token = token(page)
    assert new_token != "stale"
    assert new_token == fresh_before or new_token
    assert 'name="csrf_token"' in page
    assert bookings(db) == 0

    # The new token works: the preview answers, nothing expired any more.
    again = client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, new_token))
    assert again.status_code in (200, 422)
    assert "expired" not in text(again) and "abgelaufen" not in text(again)
    assert "Chorprobe Sopran" in text(again)


def test_an_expired_registration_keeps_everything_but_the_passwords(csrf_app, db):
    client = csrf_app.test_client()
    client.get("/register")
    response = client.post(
        "/register",
        data={
            "email": "neu@example.org",
            "name": "Nora Neu",
            "password": "lange-geheim-1",
            "confirm": "lange-geheim-1",
            "language": "en",
            "csrf_token": "stale",
        },
    )
    page = text(response)
    assert response.status_code == 400
    assert 'value="neu@example.org"' in page and 'value="Nora Neu"' in page
    assert "lange-geheim-1" not in page
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_expired_password_reset_request_keeps_the_address(csrf_app, db):
    client = csrf_app.test_client()
    client.get("/password-reset")
    response = client.post(
        "/password-reset", data={"email": "vergessen@example.org", "csrf_token": "stale"}
    )
    assert response.status_code == 400
    assert 'value="vergessen@example.org"' in text(response)


def test_a_form_of_a_page_without_kept_input_still_says_it_expired(csrf_app, db, make_user):
    user = make_user()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    response = client.post("/organisations/new", data={"name": "Chor", "csrf_token": "stale"})
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen" in text(response)


# A session that ended in another tab.


def test_a_booking_form_sent_after_a_logout_elsewhere_comes_back_after_the_login(
    csrf_app, db, make_user, make_room
):
    user = make_user()
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    form = text(client.get(f"/rooms/{room.id}/book"))
    csrf = token(form)
    client.post("/logout", data={"csrf_token": csrf})  # "in another tab"

    sent = client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, csrf))
    assert sent.status_code == 302
    login_url = sent.headers["Location"]
    assert urlsplit(login_url).path == "/login"
    assert parse_qs(urlsplit(login_url).query)["next"] == [f"/rooms/{room.id}/book"]
    assert bookings(db) == 0

    page = text(client.get(login_url))
    back = client.post(
        login_url, data={"email": user.email, "password": PASSWORD, "csrf_token": token(page)}
    )
    assert back.headers["Location"] == f"/rooms/{room.id}/book"
    refilled = text(client.get(back.headers["Location"]))
    assert_filled(refilled)
    assert "before logging in" in refilled or "vor der Anmeldung" in refilled
    # Kept once: the next visit starts with an empty form.
    assert "Chorprobe Sopran" not in text(client.get(f"/rooms/{room.id}/book"))


def test_a_booking_form_sent_after_the_session_expired_comes_back_after_the_login(
    csrf_app, db, make_user, make_room
):
    user = make_user()
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    csrf = token(text(client.get(f"/rooms/{room.id}/book")))
    # The session cookie is gone (expired): the token no longer matches anything.
    client.delete_cookie("session", domain="raumboerse.test")
    assert client.get("/profile").status_code == 302

    sent = client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, csrf))
    assert sent.status_code == 302
    assert urlsplit(sent.headers["Location"]).path == "/login"
    back = log_in(client, user.email, next_url=f"/rooms/{room.id}/book")
    assert back.headers["Location"] == f"/rooms/{room.id}/book"
    assert_filled(text(client.get(f"/rooms/{room.id}/book")))
    assert bookings(db) == 0


def test_kept_values_are_only_shown_on_the_page_they_came_from(csrf_app, db, make_user, make_room):
    user = make_user()
    room, other = make_room(), make_room()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    csrf = token(text(client.get(f"/rooms/{room.id}/book")))
    client.post("/logout", data={"csrf_token": csrf})
    client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, csrf))
    log_in(client, user.email)
    assert "Chorprobe Sopran" not in text(client.get(f"/rooms/{other.id}/book"))
    assert_filled(text(client.get(f"/rooms/{room.id}/book")))


def test_a_form_sent_logged_out_comes_back_after_registering(csrf_app, db, make_room):
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    csrf = token(text(client.get("/login")))  # a visitor's session with a token
    sent = client.post(f"/rooms/{room.id}/book", data=booking_values(room.id, csrf))
    login_page = text(client.get(sent.headers["Location"]))
    register_page = text(client.get(link_with_next(login_page, "/register")))
    action = re.search(r'<form method="post" action="(/register[^"]*)"', register_page).group(1)
    registered = client.post(
        action,
        data={
            "csrf_token": token(register_page),
            "email": "ida@example.org",
            "name": "Ida",
            "password": "lange-geheim-1",
            "confirm": "lange-geheim-1",
            "language": "en",
        },
    )
    assert registered.headers["Location"] == "/register/sent"
    # The confirmation link, opened in the same browser, leads back to the filled-in form.
    link = confirmation_link(db, "ida@example.org")
    confirmed = client.post(link, data={"csrf_token": token(text(client.get(link)))})
    assert confirmed.headers["Location"] == f"/rooms/{room.id}/book"
    assert_filled(text(client.get(confirmed.headers["Location"])))


def test_a_very_long_text_is_left_out_rather_than_losing_everything(
    csrf_app, db, make_user, make_room
):
    import random
    import string

    user = make_user()
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    csrf = token(text(client.get(f"/rooms/{room.id}/book")))
    client.post("/logout", data={"csrf_token": csrf})
    noise = "".join(random.choices(string.ascii_letters + string.digits, k=5000))
    values = booking_values(room.id, csrf) | {"description": noise}
    client.post(f"/rooms/{room.id}/book", data=values)
    # The session cookie stays below what browsers keep (4 KB).
    assert len(client.get_cookie("session", domain="raumboerse.test").value) < 3500
    log_in(client, user.email)
    page = text(client.get(f"/rooms/{room.id}/book"))
    assert 'value="Chorprobe Sopran"' in page and 'value="14"' in page
    assert noise not in page


def test_kept_values_are_previewed_again_before_anything_is_booked(
    csrf_app, db, make_user, make_room
):
    """A refilled form (perhaps sent from another site) never books on the next tap."""
    user = make_user()
    room = make_room()
    db.session.commit()
    client = csrf_app.test_client()
    log_in(client, user.email)
    form = text(client.get(f"/rooms/{room.id}/book"))
    values = booking_values(room.id, "stale") | {"previewed": "0123456789abcdef", "book": "Book"}
    page = text(client.post(f"/rooms/{room.id}/book", data=values))
    assert re.search(r'name="previewed" type="hidden" value=""', page)
    booked = client.post(
        f"/rooms/{room.id}/book", data=values | {"csrf_token": token(form), "previewed": ""}
    )
    assert booked.status_code != 302
    assert bookings(db) == 0
