"""Login rate limit and CSRF, each in an app of its own with the protection switched on."""

from __future__ import annotations

import pytest

from booking import create_app
from booking.extensions import limiter


@pytest.fixture
def strict_app(database_url, db):
    """Build an app with extra settings; the shared limiter gets its old state back afterwards."""
    enabled = limiter.enabled
    apps = []

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "test-secret",
                "SERVER_NAME": "raumboerse.test",
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    limiter.enabled = enabled
    for app in apps:
        with app.app_context():
            from booking.extensions import db as _db

            _db.engine.dispose()


def test_login_is_rate_limited(strict_app, db, make_user):
    make_user(email="anna@example.org")
    db.session.commit()
    app = strict_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    data = {"email": "anna@example.org", "password": "guess guess guess"}
    statuses = [client.post("/login", data=data).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    refused = client.post("/login", data=data)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Zu viele Versuche" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # looking at the form is not limited


def test_the_shared_test_app_is_not_rate_limited(strict_app, client, make_user):
    strict_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1 per minute")
    make_user(email="anna@example.org")
    data = {"email": "anna@example.org", "password": "guess guess guess"}
    assert [client.post("/login", data=data).status_code for _ in range(3)] == [422] * 3


def test_posts_without_a_csrf_token_are_refused(strict_app, db, make_user):
    make_user(email="anna@example.org")
    db.session.commit()  # the other app reads through its own connection
    app = strict_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "anna@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/profile").status_code == 302  # not logged in

    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={
            "email": "anna@example.org",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200


def test_an_expired_form_says_so_in_plain_words(strict_app, db):
    client = strict_app(WTF_CSRF_ENABLED=True).test_client()
    client.get("/register")
    response = client.post(
        "/register",
        data={
            "email": "neu@example.org",
            "name": "Nora",
            "password": "lange-geheim-1",
            "confirm": "lange-geheim-1",
            "language": "de",
            "csrf_token": "stale",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen." in page
    assert "CSRF" not in page
