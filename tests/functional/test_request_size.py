"""What a client may send (#13): a whole request at most MAX_CONTENT_LENGTH (8 MB, a site photo
fits), a text field at most MAX_FORM_MEMORY_SIZE (500 KB); beyond that a 413 that says so."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.api.tokens import create_token

MB = 1024 * 1024
TOO_LARGE = "What you sent is too large: at most 8 MB in all (files included), and at most 500 KB"


@pytest.fixture
def client(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post_multipart(client, url: str, fields: dict):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def assert_friendly_413(response) -> None:
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Too much data</h1>" in page
    assert TOO_LARGE in page
    assert "kern-alert" in page  # the look of every error page
    assert 'href="/"' in page  # and the way back


def test_the_limits_fit_the_largest_upload(app):
    from booking.services import room_import, site_photos

    assert app.config["MAX_CONTENT_LENGTH"] == 8 * MB
    assert app.config["MAX_CONTENT_LENGTH"] > site_photos.PHOTO_MAX_BYTES + MB
    assert app.config["MAX_CONTENT_LENGTH"] > room_import.MAX_BYTES
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 500 * 1024


def test_a_20_mb_upload_gets_the_413_page(client):
    upload = {"email": "a@example.org", "file": FileStorage(io.BytesIO(b"\0" * (20 * MB)), "a.jpg")}
    assert_friendly_413(post_multipart(client, "/login", upload))


def test_a_3_mb_text_field_gets_the_413_page(client):
    """URL-encoded (what a browser sends for a form without files) and multipart alike."""
    field = {"email": "x" * (3 * MB), "password": "secret"}
    assert_friendly_413(client.post("/login", data=field))
    assert_friendly_413(post_multipart(client, "/login", field))


def test_a_form_within_the_limits_is_read(client):
    # 400 KB of text: the form is read and the field's own length check answers.
    response = client.post("/login", data={"email": "x" * 400_000, "password": "secret"})
    assert response.status_code == 422


def test_the_413_page_is_in_german_by_default(client):
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    response = client.post("/login", data={"email": "x" * (3 * MB)})
    assert response.status_code == 413
    assert '<html lang="de">' in response.get_data(as_text=True)


def test_the_api_answers_too_large_with_a_problem(client, db, make_user):
    _token, plain = create_token(make_user(), "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    body = b'{"title": "' + b"x" * (20 * MB) + b'"}'
    response = client.post(
        "/api/v1/bookings", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "too_large"
    # A form sent to the API is refused the same way, before it is read.
    response = client.post("/api/v1/bookings", data={"x": "y" * (3 * MB)}, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_large"
