"""Security headers on every kind of response, and the limits on what a client may send (#13)."""

from __future__ import annotations

import re

import pytest

from booking import create_app
from tests.mails import last_mail_to

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
MB = 1024 * 1024


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secured(response, referrer_policy: str = "same-origin") -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert response.headers.get("Referrer-Policy") == referrer_policy
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # A development or test app is plain HTTP: no promise of HTTPS for a year.
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def room(make_room):
    return make_room()


def test_every_kind_of_response_carries_the_headers(client, db, room, make_user, login_as):
    db.session.commit()
    public_page = client.get("/")
    assert public_page.status_code == 200
    assert_secured(public_page)
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    assert_secured(not_found)
    api_json = client.get("/api/v1/rooms")
    assert api_json.status_code == 200
    assert api_json.mimetype == "application/json"
    assert_secured(api_json)
    api_problem = client.get("/api/v1/bookings")
    assert api_problem.status_code == 401
    assert api_problem.mimetype == "application/problem+json"
    assert_secured(api_problem)
    feed = client.get(f"/ical/rooms/{room.id}.ics")
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    assert_secured(feed)
    static = client.get("/static/style.css")
    assert static.status_code == 200
    assert_secured(static)
    static.close()
    redirect = client.get("/my/bookings")
    assert redirect.status_code == 302
    assert_secured(redirect)

    login_as(make_user())
    logged_in = client.get("/profile")
    assert logged_in.status_code == 200
    assert_secured(logged_in)


def test_no_template_needs_inline_script_or_style():
    """What the policy forbids, the templates must not use (mails are not web pages)."""
    from booking.paths import TEMPLATES_DIR

    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES_DIR)}: {match.group(0).strip()}"
        for path in TEMPLATES_DIR.rglob("*.html")
        if "mail" not in path.relative_to(TEMPLATES_DIR).parts
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_hsts_only_in_production_with_secure_cookies(database_url):
    def hsts(**config):
        app = create_app(
            {"TESTING": True, "RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": database_url}
            | config
        )
        try:
            with app.test_client() as client:
                return client.get("/no-such-page").headers.get("Strict-Transport-Security")
        finally:
            with app.app_context():
                app.extensions["sqlalchemy"].engine.dispose()

    production = {"ENV": "production", "SECRET_KEY": "a-long-random-production-secret"}
    assert hsts(**production, SESSION_COOKIE_SECURE=True) == "max-age=31536000"
    assert hsts(**production, SESSION_COOKIE_SECURE=False) is None
    assert hsts(ENV="development", SESSION_COOKIE_SECURE=True) is None


def test_the_reset_page_never_sends_its_address_as_referer(database_url, db, make_user):
    """The link holds the token: the page's requests send the origin alone. It must still send
    that much: over HTTPS, Flask-WTF refuses a form post without a same-origin Referer (the
    page's former ``<meta name="referrer" content="no-referrer">`` broke the form there)."""
    from booking.services import accounts

    make_user(email="anna@example.org")
    db.session.commit()
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "raumboerse.test",
            "BOOKING_BASE_URL": "https://raumboerse.test",
        }
    )
    try:
        with app.app_context():
            accounts.request_password_reset("anna@example.org")
            db.session.commit()
            text = last_mail_to(db, "anna@example.org").body_text
        link = re.search(r"https://raumboerse\.test(/password-reset/\S+)", text)[1]
        client = app.test_client()
        https = {"base_url": "https://raumboerse.test"}
        page = client.get(link, **https)
        assert page.status_code == 200
        assert_secured(page, referrer_policy="strict-origin")
        assert 'name="referrer"' not in page.text  # a meta tag would override the header
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]
        form = {"csrf_token": csrf, "password": "a new long secret", "confirm": "a new long secret"}
        # What a browser sends under strict-origin: the origin, not the link.
        answer = client.post(
            link, data=form, headers={"Referer": "https://raumboerse.test/"}, **https
        )
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].endswith("/profile")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_confirmation_link_page_sends_the_origin_alone(client):
    page = client.get("/register/confirm/no-such-token")
    assert page.status_code == 410
    assert_secured(page, referrer_policy="strict-origin")
